import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BufferedPublisherStats } from '../../../core/src/middleware/journal/buffered-publisher.js';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import { authenticateApiKey, createApiKey } from '../../../catalog/src/keys/api-key.repository.js';
import { newCaptureStats, type CaptureStats } from '../src/capture.js';
import { escapeLabelValue, startMetricsServer, type MetricsServer, type ShardMetrics } from '../src/metrics.js';

const NOW = 1_764_470_000_000;

function stats(over: Partial<CaptureStats> = {}): CaptureStats {
  const s = newCaptureStats();
  return { ...s, ...over, byKind: { ...s.byKind, ...over.byKind } };
}

function pub(over: Partial<BufferedPublisherStats> = {}): BufferedPublisherStats {
  return { bufferedBytes: 0, bufferedRecords: 0, peakBufferedBytes: 0, spilledRecords: 0, spillPendingRecords: 0, published: 0, duplicates: 0, dropped: 0, failedAttempts: 0, ...over };
}

/** Parse the exposition text into `name{labels}` -> value, checking every sample has HELP and TYPE first. */
function parse(text: string): { values: Map<string, number>; types: Map<string, string> } {
  const values = new Map<string, number>();
  const types = new Map<string, string>();
  const helps = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = /^# HELP (\S+) .+$/.exec(line);
    if (help) {
      helps.add(help[1]!);
      continue;
    }
    const type = /^# TYPE (\S+) (counter|gauge)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const m = /^([a-z_]+)(\{.*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    expect(helps.has(m[1]!) && types.has(m[1]!), `${m[1]} has HELP and TYPE before its samples`).toBe(true);
    values.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return { values, types };
}

describe('metrics server', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('exposes each shard\'s counters and gauges in Prometheus text format', async () => {
    const shards: ShardMetrics[] = [
      {
        feed: 'kraken', shard: 0,
        stats: stats({ frames: 12, bytes: 3456, byKind: { data: 9, control: 1, heartbeat: 1, error: 0, unknown: 1, malformed: 0 }, connects: 2, disconnects: 1, sequenceGaps: 3, lastFrameAt: NOW - 2_500 }),
        publisher: pub({ bufferedBytes: 4096, spillPendingRecords: 7, dropped: 1 }),
      },
      { feed: 'kraken', shard: 1, stats: stats() },
    ];
    server = await startMetricsServer({ port: 0, shards: () => shards, now: () => NOW });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { values, types } = parse(await res.text());

    const s0 = '{feed="kraken",shard="0"}';
    expect(values.get('ssmd_capture_frames_total{feed="kraken",shard="0",kind="data"}')).toBe(9);
    expect(values.get('ssmd_capture_frames_total{feed="kraken",shard="0",kind="control"}')).toBe(1);
    expect(values.get('ssmd_capture_frames_total{feed="kraken",shard="0",kind="unknown"}')).toBe(1);
    expect(values.get('ssmd_capture_frames_total{feed="kraken",shard="0",kind="malformed"}')).toBe(0);
    expect(values.get(`ssmd_capture_bytes_total${s0}`)).toBe(3456);
    expect(values.get(`ssmd_capture_connects_total${s0}`)).toBe(2);
    expect(values.get(`ssmd_capture_disconnects_total${s0}`)).toBe(1);
    expect(values.get(`ssmd_capture_sequence_gaps_total${s0}`)).toBe(3);
    expect(values.get(`ssmd_capture_last_frame_age_seconds${s0}`)).toBe(2.5);
    expect(values.get(`ssmd_journal_buffer_bytes${s0}`)).toBe(4096);
    expect(values.get(`ssmd_journal_spill_pending${s0}`)).toBe(7);
    expect(values.get(`ssmd_journal_dropped_total${s0}`)).toBe(1);
    // Shard 1: zero counters, no frame yet (no age sample), no publisher stats (no journal samples).
    const s1 = '{feed="kraken",shard="1"}';
    expect(values.get(`ssmd_capture_frames_total{feed="kraken",shard="1",kind="data"}`)).toBe(0);
    expect(values.get(`ssmd_capture_connects_total${s1}`)).toBe(0);
    expect(values.has(`ssmd_capture_last_frame_age_seconds${s1}`)).toBe(false);
    expect(values.has(`ssmd_journal_buffer_bytes${s1}`)).toBe(false);

    expect(types.get('ssmd_capture_frames_total')).toBe('counter');
    expect(types.get('ssmd_capture_bytes_total')).toBe('counter');
    expect(types.get('ssmd_capture_connects_total')).toBe('counter');
    expect(types.get('ssmd_capture_disconnects_total')).toBe('counter');
    expect(types.get('ssmd_capture_sequence_gaps_total')).toBe('counter');
    expect(types.get('ssmd_capture_last_frame_age_seconds')).toBe('gauge');
    expect(types.get('ssmd_journal_buffer_bytes')).toBe('gauge');
    expect(types.get('ssmd_journal_spill_pending')).toBe('gauge');
  });

  it('reads the stats at every scrape', async () => {
    const s = stats();
    server = await startMetricsServer({ port: 0, shards: () => [{ feed: 'k', shard: 0, stats: s }] });
    const scrape = async () => parse(await (await fetch(`${server!.url}/metrics`)).text()).values.get('ssmd_capture_bytes_total{feed="k",shard="0"}');
    expect(await scrape()).toBe(0);
    s.bytes = 99;
    expect(await scrape()).toBe(99);
  });

  it('escapes backslash, double quote and line feed in label values', async () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    server = await startMetricsServer({ port: 0, shards: () => [{ feed: 'we"ird\\feed\nname', shard: 0, stats: stats({ bytes: 5 }) }] });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('ssmd_capture_bytes_total{feed="we\\"ird\\\\feed\\nname",shard="0"} 5\n');
    // Every sample stays on one line.
    for (const line of text.trimEnd().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) |ssmd_)/);
  });

  it('answers /healthz and 404 for other paths', async () => {
    server = await startMetricsServer({ port: 0, shards: () => [] });
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok\n');
    for (const p of ['/', '/metric', '/metrics/x', '/favicon.ico']) expect((await fetch(`${server.url}${p}`)).status, p).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    // No shards: HELP/TYPE only.
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('# TYPE ssmd_capture_frames_total counter\n');
  });

  it('answers 500 when the stats cannot be read, and keeps serving', async () => {
    let fail = true;
    server = await startMetricsServer({ port: 0, shards: () => { if (fail) throw new Error('boom'); return []; } });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(500);
    fail = false;
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
  });
});

describe('metrics server with API-key authentication', () => {
  let catalog: Catalog;
  let server: MetricsServer;
  let reader: string;
  let jobsOnly: string;
  beforeAll(async () => {
    catalog = await openCatalog('pglite:memory');
    reader = (await createApiKey(catalog.db, { name: 'prometheus', scopes: ['data:read'], actor: 'tester' })).token;
    jobsOnly = (await createApiKey(catalog.db, { name: 'jobs', scopes: ['jobs:write'], actor: 'tester' })).token;
    server = await startMetricsServer({
      port: 0,
      shards: () => [{ feed: 'kraken', shard: 0, stats: stats({ bytes: 42 }) }],
      authenticate: async (token) => {
        try {
          await authenticateApiKey(catalog.db, token, 'data:read', 'metrics');
          return true;
        } catch {
          return false;
        }
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await catalog?.close();
  });

  it('401 without a bearer token, 403 for a refused one, 200 for a data:read key; /healthz stays open', async () => {
    const url = `${server.url}/metrics`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fetch(url, { headers: { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } })).status).toBe(401);
    expect((await fetch(url, { headers: { Authorization: 'Bearer ssmd_nope_nope' } })).status).toBe(403);
    expect((await fetch(url, { headers: { Authorization: `Bearer ${jobsOnly}` } })).status).toBe(403);
    const ok = await fetch(url, { headers: { Authorization: `Bearer ${reader}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('ssmd_capture_bytes_total{feed="kraken",shard="0"} 42\n');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
