import http from 'node:http';
import { sql, type Kysely } from 'kysely';
import type { Clock, TimerHandle } from '../../../../core/src/middleware/clock.js';
import { SimulatedClock } from '../../../../core/src/middleware/clock.js';
import type { Database } from '../../../../catalog/src/database.js';
import { getRun } from '../../../../catalog/src/runs/run.repository.js';
import { instrumentsAsOf } from '../../../../catalog/src/secmaster/secmaster.repository.js';
import { SECMASTER_ENTITIES, type SecmasterEntity } from '../../../../catalog/src/secmaster/entities.js';

export const T0 = Date.UTC(2026, 1, 12, 17, 0, 0);

/**
 * Drive a SimulatedClock while `work` runs: whenever something sleeps on it (retry backoff, call spacing), jump
 * ahead so the sleep ends at once. Real I/O (the simulator) proceeds between jumps.
 */
export async function drive<T>(clock: SimulatedClock, work: Promise<T>, stepMs = 600_000): Promise<T> {
  let settled = false;
  work.then(() => (settled = true), () => (settled = true));
  while (!settled) {
    await new Promise((r) => setTimeout(r, 1));
    if (clock.pending > 0) await clock.advanceBy(stepMs);
  }
  return work;
}

/** A clock that records every sleep asked of it (then sleeps on the simulated clock it wraps). */
export class RecordingClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(readonly sim: SimulatedClock) {}
  now(): number {
    return this.sim.now();
  }
  nowNs(): bigint {
    return this.sim.nowNs();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return this.sim.sleep(ms, signal);
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    return this.sim.setTimer(fn, ms);
  }
  clearTimer(handle: TimerHandle): void {
    this.sim.clearTimer(handle);
  }
}

export interface ProxyReply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export interface Proxy {
  /** Same path prefix as the target, so it is a drop-in base URL. */
  url: string;
  /** Every request received, in order. */
  requests: URL[];
  /** Answer a request here instead of forwarding it. */
  intercept?: (url: URL) => ProxyReply | undefined;
  /** Rewrite a forwarded JSON body. */
  transform?: (url: URL, body: unknown) => unknown;
  close(): Promise<void>;
}

/** A GET proxy in front of a simulator's REST API, to count pages and inject what the simulator cannot (500s). */
export async function startProxy(target: string): Promise<Proxy> {
  const origin = new URL(target);
  const proxy: Proxy = {
    url: '', requests: [],
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    proxy.requests.push(url);
    void (async () => {
      const own = proxy.intercept?.(url);
      if (own !== undefined) {
        res.writeHead(own.status, { 'content-type': 'application/json', ...own.headers });
        return res.end(own.body);
      }
      const up = await fetch(url);
      let text = await up.text();
      if (proxy.transform !== undefined && up.ok) text = JSON.stringify(proxy.transform(url, JSON.parse(text)));
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const ra = up.headers.get('retry-after');
      if (ra !== null) headers['retry-after'] = ra;
      res.writeHead(up.status, headers);
      res.end(text);
    })().catch((err: unknown) => {
      res.writeHead(502);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy: no address');
  proxy.url = `http://127.0.0.1:${address.port}${origin.pathname.replace(/\/$/, '')}`;
  return proxy;
}

/** Keys of the instruments in force at `at`. */
export async function keysAsOf(db: Kysely<Database>, entity: SecmasterEntity, at: Date | number): Promise<string[]> {
  const rows = await instrumentsAsOf(db, entity, new Date(at));
  const key = { kalshi_series: 'ticker', kalshi_events: 'event_ticker', kalshi_markets: 'ticker', polymarket_events: 'event_id', polymarket_conditions: 'condition_id', polymarket_tokens: 'token_id', kraken_pairs: 'symbol' }[entity];
  return rows.map((r) => (r as unknown as Record<string, string>)[key] as string);
}

export async function runStatus(db: Kysely<Database>, runId: string): Promise<{ status: string; error: string | null; kind: string; feed: string | null }> {
  const run = await getRun(db, runId);
  if (run === undefined) throw new Error(`no run ${runId}`);
  return { status: run.status, error: run.error, kind: run.kind, feed: run.feed };
}

/** A deep copy to edit before restarting a simulator with it. */
export const copy = <T>(v: T): T => structuredClone(v);

/** Empty the secmaster and the runs between tests (one PGlite per file: opening one costs seconds). */
export async function resetCatalog(db: Kysely<Database>): Promise<void> {
  await sql`TRUNCATE ${sql.join([...SECMASTER_ENTITIES, 'runs'].map((t) => sql.table(t)))} RESTART IDENTITY CASCADE`.execute(db);
}
