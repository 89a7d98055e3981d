/**
 * feed-lifecycle tests (style lesson 5) of WsFeedBase against a local `ws` server on port 0.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { SimulatedClock } from '../../../core/src/middleware/clock.js';
import { WsFeedBase, backoffDelay, parseRetryAfter } from '../src/ws-feed-base.js';
import type { WsFeedOptions } from '../src/ws-feed-base.js';
import { CountingClock, collect, waitFor } from './helpers.js';

type Answer = 'accept' | 'hang' | { status: number; headers?: Record<string, string>; body?: string };

interface TestServer {
  url: string;
  /** One entry per upgrade request. */
  upgrades: number;
  sockets: WebSocket[];
  received: string[][];
  pings: number[];
  closeCodes: number[];
  close(): Promise<void>;
}

async function startServer(answer: (attempt: number) => Answer, onConnection?: (ws: WebSocket, index: number) => void): Promise<TestServer> {
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true });
  const raw = new Set<Duplex>();
  const s: TestServer = {
    url: '', upgrades: 0, sockets: [], received: [], pings: [], closeCodes: [],
    async close() {
      for (const ws of s.sockets) ws.terminate();
      for (const sock of raw) sock.destroy();
      await new Promise<void>((r) => wss.close(() => r()));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  server.on('upgrade', (req, socket, head) => {
    raw.add(socket);
    socket.on('close', () => raw.delete(socket));
    const a = answer(++s.upgrades);
    if (a === 'hang') return;
    if (a !== 'accept') {
      const body = a.body ?? '';
      const headers = Object.entries(a.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.end(`HTTP/1.1 ${a.status} ${http.STATUS_CODES[a.status] ?? 'Error'}\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const i = s.sockets.push(ws) - 1;
      s.received[i] = [];
      s.pings[i] = 0;
      ws.on('message', (d) => s.received[i]?.push(d.toString()));
      ws.on('ping', () => (s.pings[i] = (s.pings[i] ?? 0) + 1));
      ws.on('close', (code) => s.closeCodes.push(code));
      ws.on('error', () => undefined);
      onConnection?.(ws, i);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  s.url = `ws://127.0.0.1:${addr.port}/ws`;
  return s;
}

class TestFeed extends WsFeedBase {
  protected override subscribeFrames(): string[] {
    return ['SUB'];
  }
  protected override heartbeatFrame(): string {
    return 'HB';
  }
}

const servers: TestServer[] = [];
const feeds: WsFeedBase[] = [];
afterEach(async () => {
  for (const f of feeds.splice(0)) await f.stop();
  for (const s of servers.splice(0)) await s.close();
});

async function setup(answer: (attempt: number) => Answer, options: Partial<WsFeedOptions> = {}, onConnection?: (ws: WebSocket, i: number) => void) {
  const server = await startServer(answer, onConnection);
  servers.push(server);
  const feed = new TestFeed({ feed: 'test', shard: 3, url: server.url, staleAfterMs: 0, backoff: { baseMs: 10, capMs: 100 }, ...options });
  feeds.push(feed);
  return { server, feed, c: collect(feed) };
}

describe('WsFeedBase: connect, subscribe, frames', () => {
  it('sends the subscribe frames after open and delivers every frame byte-exact, connSeq from 1', async () => {
    const frames = [Buffer.from('{"price":0.5660}'), Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), Buffer.from([0, 1, 2, 255])];
    const { server, c } = await setup(() => 'accept', {}, (ws) =>
      ws.on('message', () => {
        ws.send(frames[0] as Buffer, { binary: false });
        ws.send(frames[1] as Buffer, { binary: false }); // a text frame that is not UTF-8: raw data, kept
        ws.send(frames[2] as Buffer, { binary: true });
      }),
    );
    await waitFor(() => c.frames().length === 3, '3 frames');
    expect(server.received[0]).toEqual(['SUB']);
    expect(c.events[0]).toMatchObject({ kind: 'connected' });
    const conn = c.conns()[0] as string;
    expect(conn).toMatch(/^test-3-\d{13}-1$/);
    const got = c.frames(conn);
    expect(got.map((f) => f.connSeq)).toEqual([1, 2, 3]);
    got.forEach((f, i) => expect(Buffer.from(f.bytes).equals(frames[i] as Buffer)).toBe(true));
    expect(typeof got[0]?.recvNs).toBe('bigint');
    // RealClock.nowNs is ms wall time + a sub-ms hrtime part: ordered to within 1 ms only
    expect((got[2]?.recvNs ?? 0n) - (got[0]?.recvNs ?? 0n)).toBeGreaterThan(-1_000_000n);
  });

  it('a server close is a disconnect with its code; the next connection has a new conn and connSeq from 1', async () => {
    const { c } = await setup(() => 'accept', {}, (ws, i) => {
      ws.send(`hello ${i}`);
      if (i === 0) ws.close(4000, 'bye');
    });
    await waitFor(() => c.conns().length === 2 && c.frames(c.conns()[1]).length === 1, 'second connection');
    expect(c.of('disconnected')[0]).toMatchObject({ reason: 'closed by server: code 4000 bye' });
    const [a, b] = c.conns() as [string, string];
    expect(a).not.toBe(b);
    expect(b).toMatch(/-2$/);
    expect(c.frames(b)[0]).toMatchObject({ connSeq: 1 });
    expect(Buffer.from(c.frames(b)[0]?.bytes ?? []).toString()).toBe('hello 1');
  });
});

describe('WsFeedBase: backoff', () => {
  it('full jitter: uniform below min(cap, base·2^n)', () => {
    const ceilings = [100, 200, 400, 800, 1000, 1000];
    ceilings.forEach((ceiling, n) => expect(backoffDelay(n, { baseMs: 100, capMs: 1000 }, () => 0.999999)).toBe(ceiling - 1));
    const samples = Array.from({ length: 20_000 }, () => backoffDelay(3, { baseMs: 100, capMs: 1000 }, Math.random));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(800);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(mean).toBeGreaterThan(360);
    expect(mean).toBeLessThan(440);
    expect(new Set(samples).size).toBeGreaterThan(500);
  });

  it('refused upgrades back off with growing, jittered, capped delays', async () => {
    const r = [0.999, 0.5, 0.999, 0.25, 0.999, 0.999, 0.1];
    let i = 0;
    const { c } = await setup(() => ({ status: 503, body: 'down' }), { backoff: { baseMs: 10, capMs: 80 }, random: () => r[i++ % r.length] as number });
    await waitFor(() => c.of('disconnected').length >= 7, '7 disconnects');
    const delays = c.of('disconnected').slice(0, 7).map((d) => d.reconnectInMs);
    const ceilings = [10, 20, 40, 80, 80, 80, 80];
    expect(delays).toEqual(ceilings.map((ceiling, n) => Math.floor((r[n] as number) * ceiling)));
    expect(c.of('connected')).toHaveLength(0);
    expect(c.of('error')[0]?.message).toBe('test: WebSocket upgrade refused: HTTP 503 down');
    expect(c.of('disconnected')[0]?.reason).toBe('WebSocket upgrade refused: HTTP 503 down');
  });

  it('a 429 on upgrade waits exactly Retry-After (SimulatedClock: no attempt before it)', async () => {
    const clock = new SimulatedClock({ start: Date.now() });
    const { server, feed, c } = await setup((n) => (n === 1 ? { status: 429, headers: { 'Retry-After': '2' } } : 'accept'), { clock });
    await waitFor(() => c.of('disconnected').length === 1, 'the 429');
    expect(c.of('disconnected')[0]).toMatchObject({ reconnectInMs: 2000, reason: 'WebSocket upgrade refused: HTTP 429' });
    await clock.advanceBy(1999);
    expect(feed.stats().attempts).toBe(1);
    expect(server.upgrades).toBe(1);
    await clock.advanceBy(1);
    await waitFor(() => c.of('connected').length === 1, 'the second attempt');
    expect(server.upgrades).toBe(2);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3', 0)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});

describe('WsFeedBase: heartbeat and stale detection', () => {
  it('sends a WebSocket ping every interval', async () => {
    const { server } = await setup(() => 'accept', { heartbeat: { kind: 'ws-ping', intervalMs: 30 } });
    await waitFor(() => (server.pings[0] ?? 0) >= 3, '3 pings');
  });

  it('sends the text heartbeat every interval', async () => {
    const { server } = await setup(() => 'accept', { heartbeat: { kind: 'text', intervalMs: 30 } });
    await waitFor(() => (server.received[0] ?? []).filter((m) => m === 'HB').length >= 3, '3 HB');
    expect(server.received[0]?.[0]).toBe('SUB');
  });

  it('no frame for staleAfterMs: terminate and reconnect', async () => {
    const { c } = await setup(() => 'accept', { staleAfterMs: 150 });
    await waitFor(() => c.conns().length === 2, 'reconnect');
    const d = c.of('disconnected')[0];
    expect(d?.reason).toMatch(/^stale: no frame for \d+ ms \(staleAfterMs 150\)$/);
    expect(d?.at).toBeGreaterThanOrEqual((c.of('connected')[0]?.at ?? 0) + 150);
  });

  it('server pings keep a quiet connection alive', async () => {
    const { server, c } = await setup(() => 'accept', { staleAfterMs: 150 }, (ws) => {
      const t = setInterval(() => ws.ping(), 30);
      ws.on('close', () => clearInterval(t));
    });
    await waitFor(() => server.sockets.length === 1 && c.conns().length === 1, 'connected');
    const start = performance.now();
    await waitFor(() => performance.now() - start > 500 || c.of('disconnected').length > 0, '500 ms');
    expect(c.of('disconnected')).toHaveLength(0);
  });

  it('a connect that never completes times out (connectTimeoutMs) and is retried', async () => {
    const { server, c } = await setup(() => 'hang', { connectTimeoutMs: 100 });
    await waitFor(() => c.of('disconnected').length >= 2, 'two timeouts');
    expect(c.of('disconnected')[0]?.reason).toBe('connect timeout after 100 ms');
    expect(server.upgrades).toBeGreaterThanOrEqual(2);
  });
});

describe('WsFeedBase: backpressure', () => {
  it('pauses the socket when the consumer stops reading: the queue stays bounded, nothing is lost', async () => {
    const frame = Buffer.alloc(1024, 0x61);
    const highWaterBytes = 256 * 1024;
    const total = 40_000; // 40 MiB
    let sent = 0;
    let progressAt = performance.now();
    const { feed } = await startPaced();
    async function startPaced() {
      const server = await startServer(() => 'accept', (ws) => {
        const pump = (): void => {
          while (sent < total && ws.bufferedAmount < 4 * 1024 * 1024) {
            ws.send(frame, { binary: true });
            sent++;
            progressAt = performance.now();
          }
          if (sent < total && ws.readyState === ws.OPEN) setTimeout(pump, 2);
        };
        pump();
      });
      servers.push(server);
      const f = new TestFeed({ feed: 'bp', url: server.url, staleAfterMs: 200, highWaterBytes });
      feeds.push(f);
      return { feed: f };
    }
    const it = feed.events()[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) await it.next(); // read a little, then stop
    // the server backs up: its send buffer stays full (no progress for 300 ms) long before it sent everything
    await waitFor(() => sent < total && performance.now() - progressAt > 300, 'the server to back up', 10_000);
    const st = feed.stats();
    expect(st.paused).toBe(true);
    expect(st.pauses).toBeGreaterThanOrEqual(1);
    // bound: high water + what the socket had already read (a few read chunks), far below the 40 MiB sent
    expect(st.maxQueuedBytes).toBeLessThan(highWaterBytes + 1024 * 1024);
    expect(st.queuedBytes).toBeLessThan(highWaterBytes + 1024 * 1024);
    // silence while paused is ours: no stale reconnect even though staleAfterMs is short
    let frames = 4; // connected + frames 1-4 were read above
    let expectSeq = 5;
    for (;;) {
      const r = await it.next();
      if (r.done === true) break;
      if (r.value.kind === 'frame') {
        expect(r.value.connSeq).toBe(expectSeq++);
        frames++;
        if (frames === total) break;
      }
      expect(r.value.kind).not.toBe('disconnected');
    }
    expect(frames).toBe(total);
    expect(feed.stats().paused).toBe(false);
    expect(feed.stats().attempts).toBe(1);
  }, 20_000);
});

describe('WsFeedBase: shutdown', () => {
  it('AbortSignal: close frame 1000, a final disconnected (reconnectInMs null), no timer left', async () => {
    const clock = new CountingClock();
    const ac = new AbortController();
    const { server, c } = await setup(() => 'accept', { clock, signal: ac.signal, staleAfterMs: 5000, heartbeat: { kind: 'ws-ping', intervalMs: 1000 } }, (ws) => ws.send('x'));
    await waitFor(() => c.frames().length === 1, 'a frame');
    expect(clock.pending).toBeGreaterThan(0);
    ac.abort();
    await c.done;
    expect(c.events.at(-1)).toMatchObject({ kind: 'disconnected', reason: 'aborted', reconnectInMs: null });
    expect(clock.pending).toBe(0);
    await waitFor(() => server.closeCodes.length === 1, 'server sees the close');
    expect(server.closeCodes).toEqual([1000]);
  });

  it('abort during a backoff sleep ends at once', async () => {
    const clock = new CountingClock();
    const ac = new AbortController();
    const { c } = await setup(() => ({ status: 503 }), { clock, signal: ac.signal, backoff: { baseMs: 60_000, capMs: 60_000 }, random: () => 0.5 });
    await waitFor(() => c.of('disconnected').length === 1, 'first refusal');
    ac.abort();
    await c.done;
    expect(clock.pending).toBe(0);
  });

  it('abort while the upgrade hangs ends at once', async () => {
    const clock = new CountingClock();
    const ac = new AbortController();
    const { server, c } = await setup(() => 'hang', { clock, signal: ac.signal, connectTimeoutMs: 60_000 });
    await waitFor(() => server.upgrades === 1, 'upgrade request');
    ac.abort();
    await c.done;
    expect(c.events.at(-1)).toMatchObject({ kind: 'disconnected', reason: 'aborted', reconnectInMs: null });
    expect(clock.pending).toBe(0);
  });

  it('breaking out of for-await stops the feed', async () => {
    const clock = new CountingClock();
    const server = await startServer(() => 'accept', (ws) => ws.send('x'));
    servers.push(server);
    const feed = new TestFeed({ feed: 'brk', url: server.url, staleAfterMs: 1000, clock });
    for await (const e of feed.events()) if (e.kind === 'frame') break;
    expect(clock.pending).toBe(0);
    await waitFor(() => server.closeCodes.length === 1, 'server sees the close');
  });
});
