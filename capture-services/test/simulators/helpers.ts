import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { ClientOptions } from 'ws';

/** A minimal WebSocket client that keeps every frame it gets, as the real connectors will. */
export interface TestClient {
  ws: WebSocket;
  frames: Array<{ text: string; binary: boolean; at: number }>;
  /** WebSocket ping frames received: payload and arrival time. */
  pings: Array<{ data: string; at: number }>;
  upgradeHeaders: IncomingHttpHeaders;
  connectionId: string;
  closed: Promise<{ code: number; reason: string }>;
  isClosed(): boolean;
  send(v: unknown): void;
  texts(): string[];
  close(): Promise<void>;
}

export async function connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
  const ws = new WebSocket(url, options);
  const frames: TestClient['frames'] = [];
  const pings: TestClient['pings'] = [];
  let upgradeHeaders: IncomingHttpHeaders = {};
  let isClosed = false;
  ws.on('upgrade', (res) => {
    upgradeHeaders = res.headers;
  });
  ws.on('message', (data, binary) => {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
    frames.push({ text: binary ? buf.toString('latin1') : buf.toString('utf8'), binary, at: performance.now() });
  });
  ws.on('ping', (d) => pings.push({ data: d.toString(), at: performance.now() }));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      isClosed = true;
      resolve({ code, reason: reason.toString() });
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
  });
  ws.on('error', () => undefined);
  return {
    ws, frames, pings, closed,
    get upgradeHeaders() {
      return upgradeHeaders;
    },
    get connectionId() {
      return String(upgradeHeaders['x-simulator-connection-id'] ?? '');
    },
    isClosed: () => isClosed,
    send: (v) => ws.send(typeof v === 'string' ? v : JSON.stringify(v)),
    texts: () => frames.map((f) => f.text),
    async close() {
      if (!isClosed) {
        ws.close();
        await closed;
      }
    },
  };
}

/** Try an upgrade that must be refused; resolve with its HTTP status and body. */
export function expectRefused(url: string, options: ClientOptions = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('upgrade was accepted'));
    });
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
  });
}

/** Poll `fn` until it returns something truthy; fail after `timeoutMs`. */
export async function waitFor<T>(fn: () => T | undefined | null | false, what = 'condition', timeoutMs = 5000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Real captured frames, copied from the shared fixtures (see fixtures/real/SOURCES.md). */
export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'real');
