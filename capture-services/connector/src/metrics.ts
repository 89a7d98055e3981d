import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BufferedPublisherStats } from '../../../core/src/middleware/journal/buffered-publisher.js';
import type { CaptureStats } from './capture.js';

/** What one connector shard exposes: its capture counters and, when known, its publisher's. */
export interface ShardMetrics {
  feed: string;
  shard: number;
  stats: CaptureStats;
  publisher?: BufferedPublisherStats;
}

export interface MetricsServerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind (default 127.0.0.1: metrics are not exposed beyond the host unless asked). */
  host?: string;
  /** Read at every scrape, so values are always current. */
  shards: () => ShardMetrics[];
  /**
   * When given, `/metrics` requires `Authorization: Bearer <token>`: 401 without one, 403 when
   * this resolves false. `/healthz` stays open.
   */
  authenticate?: (bearerToken: string) => Promise<boolean>;
  /** Epoch ms, for `last_frame_age_seconds` (default `Date.now`). */
  now?: () => number;
}

export interface MetricsServer {
  /** http://<host>:<port> */
  url: string;
  port: number;
  close(): Promise<void>;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Escape a label value per the text exposition format: backslash, double quote and line feed. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(l: Record<string, string | number>): string {
  return `{${Object.entries(l).map(([k, v]) => `${k}="${escapeLabelValue(String(v))}"`).join(',')}}`;
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

interface Family {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  samples: Array<[Record<string, string | number>, number]>;
}

/**
 * Prometheus text exposition (format 0.0.4) of the given shards. A shard that has never received a
 * frame has no `last_frame_age_seconds` sample; shards without publisher stats have no journal samples.
 */
export function renderMetrics(shards: readonly ShardMetrics[], nowMs: number = Date.now()): string {
  const fam = (name: string, type: Family['type'], help: string): Family => ({ name, type, help, samples: [] });
  const frames = fam('ssmd_capture_frames_total', 'counter', 'Frames captured and handed to the journal, by classification kind.');
  const bytes = fam('ssmd_capture_bytes_total', 'counter', 'Bytes of captured frames.');
  const connects = fam('ssmd_capture_connects_total', 'counter', 'WebSocket connections established.');
  const disconnects = fam('ssmd_capture_disconnects_total', 'counter', 'Unplanned disconnects (each opens a gap window).');
  const gaps = fam('ssmd_capture_sequence_gaps_total', 'counter', 'Exchange sequence gaps detected.');
  const age = fam('ssmd_capture_last_frame_age_seconds', 'gauge', 'Seconds since the last frame was captured (absent before the first frame).');
  const bufBytes = fam('ssmd_journal_buffer_bytes', 'gauge', 'Bytes held in the journal publisher buffer, not yet acknowledged.');
  const spill = fam('ssmd_journal_spill_pending', 'gauge', 'Records spilled to local disk and not yet published.');
  const dropped = fam('ssmd_journal_dropped_total', 'counter', 'Records the journal publisher dropped (each reported as a finding).');
  for (const s of shards) {
    const l = { feed: s.feed, shard: s.shard };
    for (const [kind, n] of Object.entries(s.stats.byKind)) frames.samples.push([{ ...l, kind }, n]);
    bytes.samples.push([l, s.stats.bytes]);
    connects.samples.push([l, s.stats.connects]);
    disconnects.samples.push([l, s.stats.disconnects]);
    gaps.samples.push([l, s.stats.sequenceGaps]);
    if (s.stats.lastFrameAt !== null) age.samples.push([l, Math.max(0, (nowMs - s.stats.lastFrameAt) / 1000)]);
    if (s.publisher) {
      bufBytes.samples.push([l, s.publisher.bufferedBytes]);
      spill.samples.push([l, s.publisher.spillPendingRecords]);
      dropped.samples.push([l, s.publisher.dropped]);
    }
  }
  const out: string[] = [];
  for (const f of [frames, bytes, connects, disconnects, gaps, age, bufBytes, spill, dropped]) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const [l, v] of f.samples) out.push(`${f.name}${labels(l)} ${num(v)}`);
  }
  return `${out.join('\n')}\n`;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

/**
 * Serve `GET /metrics` (Prometheus text format) and `GET /healthz` for a connector process.
 * Bound to loopback unless `host` says otherwise.
 */
export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const host = o.host ?? '127.0.0.1';
  const now = o.now ?? Date.now;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz') return send(res, 404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
    if (path === '/healthz') return send(res, 200, 'ok\n');
    if (o.authenticate) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!m) return send(res, 401, 'bearer token required\n', { 'WWW-Authenticate': 'Bearer realm="ssmd-metrics"' });
      let ok: boolean;
      try {
        ok = await o.authenticate(m[1]!);
      } catch {
        // The key store could not answer (not a refusal): tell the scraper to retry.
        return send(res, 503, 'authentication unavailable\n');
      }
      if (!ok) return send(res, 403, 'forbidden\n');
    }
    const body = renderMetrics(o.shards(), now());
    res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    }),
  };
}
