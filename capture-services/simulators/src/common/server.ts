import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { SimConnection } from './connection.js';
import type { VenueSession } from './connection.js';
import { Prng } from './prng.js';
import { Recorder } from './recorder.js';
import type { RestHandler, RestReply } from './rest.js';
import type { BaseSimulatorOptions, Fault, SimulatorHandle } from './types.js';

export const LOOPBACK = '127.0.0.1';
export const DEFAULT_RATE = 50;
export const DEFAULT_SEED = 1;
const DEFAULT_HUGE_BYTES = 3 * 1024 * 1024;

/** Outcome of a venue's upgrade check: accept, or refuse with an HTTP answer. */
export type UpgradeDecision = { ok: true } | { ok: false; status: number; body: string; contentType?: string };

/** What a venue contributes to the shared WebSocket + REST server. */
export interface VenueServerSpec {
  wsPath: string;
  /** Path prefix of the REST API (`''` when the API is at the root). */
  restBase: string;
  options: BaseSimulatorOptions;
  /** Check the upgrade request (Kalshi signatures). Refusals count as `rejectedAuth`. */
  authorize?(req: IncomingMessage): UpgradeDecision;
  /** Edit the 101 response header lines in place (Kraken's Cloudflare headers). */
  upgradeHeaders?(headers: string[], req: IncomingMessage): void;
  createSession(conn: SimConnection, req: IncomingMessage): VenueSession;
  rest: RestHandler;
  /** Body of a `rest-429` answer, in the venue's error shape. */
  tooManyRequests: string;
}

/** The base of every venue simulator: http(s) server on 127.0.0.1, WebSocket upgrade, REST, faults, stats. */
export async function startVenueServer(spec: VenueServerSpec): Promise<SimulatorHandle> {
  const o = spec.options;
  const recorder = new Recorder(o.record === true);
  const connections = new Map<string, SimConnection>();
  const replay = o.replay === undefined ? undefined : { lines: readLines(o.replay.file), loop: o.replay.loop === true };
  const rate = o.replay?.rate ?? o.rate ?? DEFAULT_RATE;
  const faultPrng = Prng.derive(o.seed ?? DEFAULT_SEED, 'faults');
  let rest429 = { remaining: 0, retryAfterSec: 1 };
  let nextConnection = 1;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(spec.restBase)) return writeReply(res, { status: 404, body: '{"error":"not found"}' });
    if (rest429.remaining > 0) {
      rest429.remaining--;
      return writeReply(res, { status: 429, body: spec.tooManyRequests, headers: { 'retry-after': String(rest429.retryAfterSec) } });
    }
    const reply = req.method === 'GET' ? spec.rest(url.pathname.slice(spec.restBase.length) || '/', url.searchParams) : undefined;
    writeReply(res, reply ?? { status: 404, body: '{"error":"not found"}' });
  };
  const server = o.tls === undefined ? http.createServer(onRequest) : https.createServer({ key: o.tls.key, cert: o.tls.cert }, onRequest);
  const wss = new WebSocketServer({ noServer: true, autoPong: false, maxPayload: 16 * 1024 * 1024 });

  wss.on('headers', (headers, req) => {
    headers.push(`x-simulator-connection-id: ${connectionIdOf(req)}`);
    spec.upgradeHeaders?.(headers, req);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== spec.wsPath) return refuse(socket, 404, '{"error":"not found"}', 'application/json');
    const decision = spec.authorize?.(req) ?? { ok: true };
    if (!decision.ok) {
      recorder.stats.rejectedAuth++;
      return refuse(socket, decision.status, decision.body, decision.contentType ?? 'application/json');
    }
    (req as IncomingMessage & { simConnectionId?: string }).simConnectionId = `c${nextConnection++}`;
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, req));
  });

  const accept = (ws: WebSocket, req: IncomingMessage): void => {
    const id = connectionIdOf(req);
    const conn = new SimConnection(id, ws, { recorder, rate, hugeFrameBytes: o.hugeFrameBytes ?? DEFAULT_HUGE_BYTES, prng: faultPrng, ...(replay ? { replay } : {}) });
    connections.set(id, conn);
    recorder.stats.connections++;
    recorder.stats.connectionsTotal++;
    const session = spec.createSession(conn, req);
    ws.on('message', (data, isBinary) => session.onMessage(isBinary ? Buffer.from(data as Buffer).toString('latin1') : data.toString(), isBinary));
    ws.on('close', () => {
      connections.delete(id);
      recorder.stats.connections--;
      conn.dispose();
    });
    ws.on('error', () => ws.terminate());
    conn.start(session);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('simulator: unexpected server address');
  const port = address.port;
  const secure = o.tls !== undefined;

  return {
    wsUrl: `${secure ? 'wss' : 'ws'}://${LOOPBACK}:${port}${spec.wsPath}`,
    restUrl: `${secure ? 'https' : 'http'}://${LOOPBACK}:${port}${spec.restBase}`,
    port,
    sent: () => recorder.sent(),
    stats: () => ({ ...recorder.stats }),
    connectionIds: () => [...connections.keys()],
    inject(fault: Fault): void {
      if (fault.kind === 'rest-429') {
        rest429 = { remaining: fault.count, retryAfterSec: fault.retryAfterSec ?? 1 };
        return;
      }
      for (const conn of connections.values()) {
        if (fault.kind === 'disconnect' && fault.connectionId !== undefined && fault.connectionId !== conn.id) continue;
        conn.inject(fault);
      }
    },
    async close(): Promise<void> {
      for (const conn of connections.values()) conn.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function connectionIdOf(req: IncomingMessage): string {
  return (req as IncomingMessage & { simConnectionId?: string }).simConnectionId ?? 'c?';
}

function writeReply(res: ServerResponse, reply: RestReply): void {
  res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
  res.end(reply.body);
}

function refuse(socket: Duplex, status: number, body: string, contentType: string): void {
  const reason = http.STATUS_CODES[status] ?? 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The non-empty lines of a `.jsonl` capture, byte-exact (a trailing `\r` is dropped). */
export function readLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
    .filter((l) => l.trim().length > 0);
}
