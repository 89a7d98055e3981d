import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKrakenSimulator } from '../../simulators/src/index.js';
import type { KrakenSimulatorOptions, SimulatorHandle } from '../../simulators/src/index.js';
import { describeCommonBehaviour } from './common-suite.js';
import { FIXTURES, connect, isObject, tryParse, waitFor } from './helpers.js';
import type { TestClient } from './helpers.js';

// ---- an independent client-side book and CRC32, written from protocols.md (not from the simulator) ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

type Side = Map<string, string>; // exact price text → exact qty text
const LEVEL = /\{"price":(-?[0-9.]+),"qty":(-?[0-9.]+)\}/g;

/** The exact level texts of a raw book element: `"bids":[...]`, `"asks":[...]`, `"checksum":N`. */
function rawBookElements(frame: string): Array<{ symbol: string; bids: Array<[string, string]>; asks: Array<[string, string]>; checksum: number }> {
  const out = [];
  for (const m of frame.matchAll(/\{"symbol":"([^"]+)","bids":\[([^\]]*)\],"asks":\[([^\]]*)\],"checksum":(\d+)/g)) {
    const levels = (s: string): Array<[string, string]> => [...s.matchAll(LEVEL)].map((l) => [l[1]!, l[2]!]);
    out.push({ symbol: m[1]!, bids: levels(m[2]!), asks: levels(m[3]!), checksum: Number(m[4]) });
  }
  return out;
}

class ClientBook {
  readonly bids: Side = new Map();
  readonly asks: Side = new Map();
  constructor(readonly depth: number) {}

  apply(bids: Array<[string, string]>, asks: Array<[string, string]>): void {
    for (const [side, levels] of [[this.bids, bids], [this.asks, asks]] as const) {
      for (const [p, q] of levels) {
        if (Number(q) === 0) side.delete(p);
        else side.set(p, q);
      }
    }
    this.truncate(this.bids, (a, b) => b - a);
    this.truncate(this.asks, (a, b) => a - b);
  }

  checksum(): number {
    const digits = (s: string): string => s.replace('.', '').replace(/^0+/, '');
    const top = (side: Side, order: (a: number, b: number) => number): string =>
      [...side.entries()].sort((a, b) => order(Number(a[0]), Number(b[0]))).slice(0, 10).map(([p, q]) => digits(p) + digits(q)).join('');
    return crc32(top(this.asks, (a, b) => a - b) + top(this.bids, (a, b) => b - a));
  }

  private truncate(side: Side, order: (a: number, b: number) => number): void {
    const keep = [...side.keys()].sort((a, b) => order(Number(a), Number(b))).slice(this.depth);
    for (const p of keep) side.delete(p);
  }
}

// ---- fixtures made once: a self-signed certificate and a recorded spot capture ----

let dir: string;
let tls: { key: string; cert: string };
let spotCapture: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ssmd-kraken-sim-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  // a spot v2 capture recorded from the simulator itself (the real fixtures are Futures only)
  const sim = await startKrakenSimulator({ rate: 'max', seed: 99 });
  const c = await connect(sim.wsUrl);
  c.send({ method: 'subscribe', params: { channel: 'book', symbol: ['POL/USD'] } });
  await waitFor(() => c.frames.length > 120, 'spot frames');
  await sim.close();
  spotCapture = join(dir, 'spot_book.jsonl');
  writeFileSync(spotCapture, `${c.texts().filter((t) => t.startsWith('{"channel":"book"')).slice(0, 100).join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parsed = (c: TestClient): Array<Record<string, unknown>> => c.texts().map(tryParse).filter(isObject);
const responses = (c: TestClient, method: string): Array<Record<string, unknown>> => parsed(c).filter((m) => m.method === method);
const bookFrames = (c: TestClient): string[] => c.texts().filter((t) => t.startsWith('{"channel":"book"'));

describe('kraken simulator', () => {
  const sims: SimulatorHandle[] = [];
  const start = async (opts: KrakenSimulatorOptions = {}): Promise<SimulatorHandle> => {
    const sim = await startKrakenSimulator(opts);
    sims.push(sim);
    return sim;
  };
  afterEach(async () => {
    for (const s of sims.splice(0)) await s.close();
  });

  it('serves wss with a self-signed certificate and Cloudflare upgrade headers; status comes first', async () => {
    const sim = await start({ tls, rate: 1 });
    expect(sim.wsUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/v2$/);
    const c = await connect(sim.wsUrl, { ca: tls.cert });
    expect(c.upgradeHeaders).toMatchObject({ server: 'cloudflare', connection: 'upgrade', 'cf-ray': expect.stringMatching(/^[0-9a-f]{16}-[A-Z]{3}$/) });
    await waitFor(() => c.frames.length > 0, 'status');
    expect(JSON.parse(c.frames[0]!.text)).toMatchObject({ channel: 'status', type: 'update', data: [{ api_version: 'v2', system: 'online' }] });
    const res = await fetch(`${sim.restUrl}/0/public/AssetPairs`).catch((e: unknown) => e);
    expect(res).toBeInstanceOf(Error); // untrusted certificate for fetch: TLS really is on
  });

  it('serves plain ws without TLS', async () => {
    const sim = await start({ rate: 1 });
    expect(sim.wsUrl).toMatch(/^ws:\/\//);
    const c = await connect(sim.wsUrl);
    expect(c.upgradeHeaders.server).toBe('cloudflare');
  });

  it('answers one result per symbol, with req_id, and per-symbol errors', async () => {
    const sim = await start({ rate: 1 });
    const c = await connect(sim.wsUrl);
    c.send({ method: 'subscribe', params: { channel: 'ticker', symbol: ['BTC/USD', 'ETH/USD', 'NOPE/USD'] }, req_id: 42 });
    c.send({ method: 'subscribe', params: { channel: 'ticker', symbol: ['BTC/USD'] }, req_id: 43 });
    c.send({ method: 'subscribe', params: { channel: 'book', symbol: ['BTC/USD'], depth: 7 }, req_id: 44 });
    c.send({ method: 'unsubscribe', params: { channel: 'ticker', symbol: ['ETH/USD', 'SOL/USD'] }, req_id: 45 });
    await waitFor(() => responses(c, 'subscribe').length === 5 && responses(c, 'unsubscribe').length === 2, 'responses');
    const [btc, eth, nope, dup, depth] = responses(c, 'subscribe');
    expect(btc).toMatchObject({ req_id: 42, success: true, result: { channel: 'ticker', symbol: 'BTC/USD', snapshot: true } });
    expect(eth).toMatchObject({ req_id: 42, success: true, result: { symbol: 'ETH/USD' } });
    expect(nope).toMatchObject({ req_id: 42, success: false, symbol: 'NOPE/USD', error: 'Currency pair not supported NOPE/USD' });
    expect(dup).toMatchObject({ req_id: 43, success: false, error: 'Already subscribed' });
    expect(depth).toMatchObject({ req_id: 44, success: false });
    expect(btc!.time_in).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(responses(c, 'unsubscribe').map((r) => r.success)).toEqual([true, false]);
    const tickerSnapshots = parsed(c).filter((m) => m.channel === 'ticker' && m.type === 'snapshot');
    expect(tickerSnapshots).toHaveLength(2);
  });

  it('answers ping with pong and the same req_id', async () => {
    const sim = await start({ rate: 1 });
    const c = await connect(sim.wsUrl);
    c.send({ method: 'ping', req_id: 7 });
    c.send({ method: 'ping' });
    await waitFor(() => responses(c, 'pong').length === 2, 'pongs');
    expect(responses(c, 'pong')[0]).toMatchObject({ method: 'pong', req_id: 7, time_in: expect.any(String), time_out: expect.any(String) });
    expect(responses(c, 'pong')[1]).not.toHaveProperty('req_id');
  });

  it('sends a heartbeat about once a second while subscribed', async () => {
    const sim = await start({ rate: 1 });
    const c = await connect(sim.wsUrl);
    c.send({ method: 'subscribe', params: { channel: 'trade', symbol: ['BTC/USD'], snapshot: true } });
    await waitFor(() => c.texts().includes('{"channel":"heartbeat"}'), 'heartbeat', 2500);
    const trades = parsed(c).find((m) => m.channel === 'trade' && m.type === 'snapshot');
    expect((trades!.data as unknown[]).length).toBe(50);
  });

  it('subscription-limit refuses the next subscribe per symbol', async () => {
    const sim = await start({ rate: 1 });
    const c = await connect(sim.wsUrl);
    sim.inject({ kind: 'subscription-limit' });
    c.send({ method: 'subscribe', params: { channel: 'book', symbol: ['BTC/USD', 'ETH/USD'] } });
    await waitFor(() => responses(c, 'subscribe').length === 2, 'refusals');
    expect(responses(c, 'subscribe').every((r) => r.success === false && r.error === 'Exceeded subscription limit')).toBe(true);
  });

  it('book checksums match an independent CRC32 over 500+ updates per symbol, with depth truncation', async () => {
    const sim = await start({ rate: 'max' });
    const check = async (depth: number, symbols: string[], updatesPerSymbol: number): Promise<void> => {
      const c = await connect(sim.wsUrl);
      c.send({ method: 'subscribe', params: { channel: 'book', symbol: symbols, depth } });
      const updatesOf = (s: string): number => bookFrames(c).filter((f) => f.includes('"type":"update"') && f.includes(`"symbol":"${s}"`)).length;
      await waitFor(() => symbols.every((s) => updatesOf(s) >= updatesPerSymbol), 'book updates', 10_000);
      const books = new Map<string, ClientBook>();
      const updates = new Map<string, number>();
      for (const frame of bookFrames(c)) {
        if (symbols.every((s) => (updates.get(s) ?? 0) >= updatesPerSymbol)) break;
        const isSnapshot = frame.startsWith('{"channel":"book","type":"snapshot"');
        for (const el of rawBookElements(frame)) {
          if (isSnapshot) {
            expect(el.bids).toHaveLength(depth);
            expect(el.asks).toHaveLength(depth);
            books.set(el.symbol, new ClientBook(depth));
          } else {
            updates.set(el.symbol, (updates.get(el.symbol) ?? 0) + 1);
          }
          const book = books.get(el.symbol)!;
          book.apply(el.bids, el.asks);
          expect(book.checksum(), `${el.symbol} ${frame.slice(0, 200)}`).toBe(el.checksum);
          expect(book.bids.size).toBe(depth);
          expect(book.asks.size).toBe(depth);
          expect(Math.max(...[...book.bids.keys()].map(Number))).toBeLessThan(Math.min(...[...book.asks.keys()].map(Number)));
        }
      }
      for (const s of symbols) expect(updates.get(s) ?? 0).toBeGreaterThanOrEqual(updatesPerSymbol);
      await c.close();
    };
    await check(10, ['BTC/USD', 'POL/USD'], 500);
    await check(25, ['ETH/USD'], 500);
    await check(100, ['SOL/USD'], 300);
    await check(1000, ['BTC/USD'], 50);
  });

  it('writes prices and quantities with the pair decimals (0.5660 stays 0.5660)', async () => {
    const sim = await start({ rate: 'max' });
    const c = await connect(sim.wsUrl);
    c.send({ method: 'subscribe', params: { channel: 'book', symbol: ['POL/USD', 'BTC/USD'] } });
    await waitFor(() => bookFrames(c).length > 200, 'book frames');
    const levels = bookFrames(c).flatMap(rawBookElements);
    const pol = levels.filter((l) => l.symbol === 'POL/USD').flatMap((l) => [...l.bids, ...l.asks]);
    const btc = levels.filter((l) => l.symbol === 'BTC/USD').flatMap((l) => [...l.bids, ...l.asks]);
    expect(pol.every(([p, q]) => /^0\.\d{4}$/.test(p) && /^\d+\.\d{8}$/.test(q))).toBe(true);
    expect(pol.some(([p]) => p.endsWith('0'))).toBe(true);
    expect(btc.every(([p]) => /^\d+\.\d$/.test(p))).toBe(true);
  });

  it('serves AssetPairs in the {error, result} shape, filtered by pair', async () => {
    const sim = await start();
    const all = (await (await fetch(`${sim.restUrl}/0/public/AssetPairs`)).json()) as { error: unknown[]; result: Record<string, Record<string, unknown>> };
    expect(all.error).toEqual([]);
    expect(all.result.XXBTZUSD).toMatchObject({ altname: 'XBTUSD', wsname: 'XBT/USD', base: 'XXBT', quote: 'ZUSD', pair_decimals: 1, lot_decimals: 8, tick_size: '0.1', status: 'online' });
    const one = (await (await fetch(`${sim.restUrl}/0/public/AssetPairs?pair=ETHUSD`)).json()) as { result: object };
    expect(Object.keys(one.result)).toEqual(['XETHZUSD']);
    expect(await (await fetch(`${sim.restUrl}/0/public/AssetPairs?pair=NOPE`)).json()).toEqual({ error: ['EQuery:Unknown asset pair'] });
    sim.inject({ kind: 'rest-429', count: 1, retryAfterSec: 2 });
    const limited = await fetch(`${sim.restUrl}/0/public/AssetPairs`);
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '2']);
    expect((await fetch(`${sim.restUrl}/0/public/AssetPairs`)).status).toBe(200);
  });
});

const DATA_CHANNELS = new Set(['book', 'ticker', 'trade']);

describeCommonBehaviour({
  name: 'kraken',
  start: (opts) => startKrakenSimulator(opts),
  connect: (sim) => connect(sim.wsUrl),
  subscribe: (c) => c.send({ method: 'subscribe', params: { channel: 'book', symbol: ['BTC/USD', 'POL/USD'], depth: 10 } }),
  isData: (t) => {
    const m = tryParse(t);
    return !isObject(m) || (!('method' in m) && m.channel !== 'heartbeat' && m.channel !== 'status');
  },
  isWellFormed: (t) => {
    const m = tryParse(t);
    if (!isObject(m) || 'padding' in m) return false;
    if (!DATA_CHANNELS.has(String(m.channel))) return true;
    if (!Array.isArray(m.data) || t.includes('not-a-number')) return false;
    return m.channel !== 'book' || rawBookElements(t).length === m.data.length;
  },
  replays: [
    { file: `${FIXTURES}/kraken-futures_trade.jsonl`, subscribe: (c) => c.send({ method: 'subscribe', params: { channel: 'trade', symbol: ['BTC/USD'] } }), expected: (l) => l },
    { label: 'a recorded spot v2 book capture', get file() { return spotCapture; }, subscribe: (c) => c.send({ method: 'subscribe', params: { channel: 'book', symbol: ['POL/USD'] } }), expected: (l) => l },
  ],
});
