import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kalshi, startKalshiSimulator } from '../../simulators/src/index.js';
import type { KalshiSimulatorOptions, SimulatorHandle } from '../../simulators/src/index.js';
import { describeCommonBehaviour } from './common-suite.js';
import { FIXTURES, connect, expectRefused, isObject, tryParse, waitFor } from './helpers.js';
import type { TestClient } from './helpers.js';

const WS_PATH = '/trade-api/ws/v2';
const DATA_TYPES = new Set(['ticker', 'trade', 'orderbook_snapshot', 'orderbook_delta', 'market_lifecycle_v2', 'event_lifecycle']);

function rsa(type: 'pkcs1' | 'pkcs8'): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type, format: 'pem' } });
}

/** The client side of protocols.md's login: RSA-PSS SHA-256, salt = digest length, over `{ts}GET{path}`. */
function signedHeaders(keyId: string, privateKey: string, ts = Date.now(), path = WS_PATH, saltLength = constants.RSA_PSS_SALTLEN_DIGEST): Record<string, string> {
  const signature = sign('sha256', Buffer.from(`${ts}GET${path}`), { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }).toString('base64');
  return { 'KALSHI-ACCESS-KEY': keyId, 'KALSHI-ACCESS-TIMESTAMP': String(ts), 'KALSHI-ACCESS-SIGNATURE': signature };
}

const inst = kalshi.makeKalshiInstruments();
const active = inst.markets.filter((m) => m.status === 'active').map((m) => m.ticker);
const [M1, M2, M3] = active as [string, string, string];

let pkcs1: { publicKey: string; privateKey: string };
let pkcs8: { publicKey: string; privateKey: string };
let stranger: { publicKey: string; privateKey: string };
beforeAll(() => {
  pkcs1 = rsa('pkcs1');
  pkcs8 = rsa('pkcs8');
  stranger = rsa('pkcs8');
});

const parsed = (c: TestClient): Array<Record<string, unknown>> => c.texts().map(tryParse).filter(isObject);
const ofType = (c: TestClient, type: string): Array<Record<string, unknown>> => parsed(c).filter((m) => m.type === type);
const msgOf = (m: Record<string, unknown>): Record<string, unknown> => (isObject(m.msg) ? m.msg : {});

describe('kalshi simulator', () => {
  const sims: SimulatorHandle[] = [];
  const start = async (opts: KalshiSimulatorOptions = {}): Promise<SimulatorHandle> => {
    const sim = await startKalshiSimulator({ keys: { k1: pkcs1.publicKey, k8: pkcs8.publicKey }, ...opts });
    sims.push(sim);
    return sim;
  };
  const open = (sim: SimulatorHandle): Promise<TestClient> => connect(sim.wsUrl, { headers: signedHeaders('k1', pkcs1.privateKey) });
  afterEach(async () => {
    for (const s of sims.splice(0)) await s.close();
  });

  describe('signed upgrade', () => {
    it('accepts a PKCS#1 and a PKCS#8 key', async () => {
      const sim = await start();
      const a = await connect(sim.wsUrl, { headers: signedHeaders('k1', pkcs1.privateKey) });
      const b = await connect(sim.wsUrl, { headers: signedHeaders('k8', pkcs8.privateKey) });
      expect(sim.stats().connections).toBe(2);
      await a.close();
      await b.close();
    });

    it('refuses a wrong key, a bad signature, a missing header, a stale timestamp, an unknown key, a wrong path and a wrong salt length with 401', async () => {
      const sim = await start();
      const cases: Array<Record<string, string>> = [
        signedHeaders('k1', stranger.privateKey),
        { ...signedHeaders('k1', pkcs1.privateKey), 'KALSHI-ACCESS-SIGNATURE': Buffer.from('not a signature').toString('base64') },
        Object.fromEntries(Object.entries(signedHeaders('k1', pkcs1.privateKey)).filter(([k]) => k !== 'KALSHI-ACCESS-SIGNATURE')),
        {},
        signedHeaders('k1', pkcs1.privateKey, Date.now() - 10 * 60_000),
        signedHeaders('nobody', pkcs1.privateKey),
        signedHeaders('k1', pkcs1.privateKey, Date.now(), '/trade-api/v2/markets'),
        signedHeaders('k1', pkcs1.privateKey, Date.now(), WS_PATH, constants.RSA_PSS_SALTLEN_MAX_SIGN), // salt ≠ digest length
      ];
      for (const headers of cases) {
        const { status, body } = await expectRefused(sim.wsUrl, { headers });
        expect(status).toBe(401);
        expect(JSON.parse(body)).toMatchObject({ error: { code: 'authentication_error' } });
      }
      expect(sim.stats().rejectedAuth).toBe(cases.length);
      expect(sim.stats().connectionsTotal).toBe(0);
    });

    it('requireAuth: false lets an unsigned client use public channels only (private ones answer code 10)', async () => {
      const sim = await start({ requireAuth: false });
      const c = await connect(sim.wsUrl);
      c.send({ id: 1, cmd: 'subscribe', params: { channels: ['fill', 'ticker'] } });
      await waitFor(() => ofType(c, 'subscribed').length === 1 && ofType(c, 'error').length === 1, 'answers');
      expect(msgOf(ofType(c, 'error')[0]!)).toMatchObject({ code: 10 });
      expect(msgOf(ofType(c, 'subscribed')[0]!)).toMatchObject({ channel: 'ticker' });
    });
  });

  describe('commands and data', () => {
    it('acks a subscribe with one sid per channel, then sends data with contiguous per-sid seq', async () => {
      const sim = await start({ rate: 500 });
      const c = await open(sim);
      c.send({ id: 1, cmd: 'subscribe', params: { channels: ['ticker', 'trade', 'orderbook_delta'], market_tickers: [M1, M2] } });
      await waitFor(() => ofType(c, 'trade').length > 40 && ofType(c, 'orderbook_delta').length > 40, 'data');
      const acks = ofType(c, 'subscribed');
      expect(acks.map((a) => a.id)).toEqual([1, 1, 1]);
      expect(acks.map((a) => msgOf(a).channel)).toEqual(['ticker', 'trade', 'orderbook_delta']);
      const sids = acks.map((a) => msgOf(a).sid as number);
      expect(new Set(sids).size).toBe(3);
      const bySid = new Map<number, number[]>();
      for (const m of parsed(c).filter((x) => typeof x.seq === 'number')) bySid.set(m.sid as number, [...(bySid.get(m.sid as number) ?? []), m.seq as number]);
      for (const seqs of bySid.values()) expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      expect(bySid.size).toBe(2); // trade and orderbook: ticker carries no seq, as in the real capture
      expect(ofType(c, 'ticker').every((t) => t.seq === undefined && t.sid === sids[0])).toBe(true);
    });

    it('starts each orderbook with a snapshot; deltas keep the book valid (no negative size, never crossed)', async () => {
      const sim = await start({ rate: 'max' });
      const c = await open(sim);
      c.send({ id: 1, cmd: 'subscribe', params: { channels: ['orderbook_delta'], market_tickers: [M1, M2, M3] } });
      await waitFor(() => ofType(c, 'orderbook_delta').length > 600, 'deltas');
      const books = new Map<string, { yes: Map<number, number>; no: Map<number, number> }>();
      for (const m of parsed(c)) {
        const msg = msgOf(m);
        const ticker = msg.market_ticker as string;
        if (m.type === 'orderbook_snapshot') {
          books.set(ticker, { yes: new Map(msg.yes as Array<[number, number]>), no: new Map(msg.no as Array<[number, number]>) });
          expect(msg.yes_dollars).toEqual((msg.yes as Array<[number, number]>).map(([p, q]) => [(p / 100).toFixed(4), q]));
        } else if (m.type === 'orderbook_delta') {
          const book = books.get(ticker);
          expect(book, `snapshot before delta for ${ticker}`).toBeDefined();
          const side = msg.side === 'yes' ? book!.yes : book!.no;
          const qty = (side.get(msg.price as number) ?? 0) + (msg.delta as number);
          expect(qty).toBeGreaterThanOrEqual(0);
          expect(msg.price_dollars).toBe(((msg.price as number) / 100).toFixed(4));
          expect(msg.delta_fp).toBe((msg.delta as number).toFixed(2));
          if (qty === 0) side.delete(msg.price as number);
          else side.set(msg.price as number, qty);
          expect(Math.max(0, ...book!.yes.keys()) + Math.max(0, ...book!.no.keys())).toBeLessThan(100);
        }
      }
      expect(books.size).toBe(3);
    });

    it('update_subscription adds markets (with their snapshot) and deletes markets', async () => {
      const sim = await start({ rate: 400 });
      const c = await open(sim);
      c.send({ id: 1, cmd: 'subscribe', params: { channels: ['orderbook_delta'], market_tickers: [M1] } });
      const sid = msgOf((await waitFor(() => ofType(c, 'subscribed')[0], 'ack'))).sid as number;
      c.send({ id: 2, cmd: 'update_subscription', params: { sids: [sid], market_tickers: [M2], action: 'add_markets' } });
      const ok = await waitFor(() => ofType(c, 'ok')[0], 'ok');
      expect(ok).toMatchObject({ id: 2, sid, market_tickers: [M1, M2] });
      expect(typeof ok.seq).toBe('number');
      await waitFor(() => ofType(c, 'orderbook_delta').some((d) => msgOf(d).market_ticker === M2), 'deltas for the added market');
      const snapshots = ofType(c, 'orderbook_snapshot').map((s) => msgOf(s).market_ticker);
      expect(snapshots).toEqual([M1, M2]);
      c.send({ id: 3, cmd: 'update_subscription', params: { sids: [sid], market_tickers: [M1], action: 'delete_markets' } });
      await waitFor(() => ofType(c, 'ok').length === 2, 'second ok');
      expect(ofType(c, 'ok')[1]).toMatchObject({ id: 3, sid, market_tickers: [M2] });
      const okAt = c.texts().findIndex((t) => t.includes('"id":3'));
      await waitFor(() => c.frames.length > okAt + 50, 'frames after delete');
      const after = c.texts().slice(okAt + 1).map(tryParse).filter(isObject);
      expect(after.every((m) => msgOf(m).market_ticker === M2)).toBe(true);
    });

    it('refuses 257 markets with the limit error and accepts 256', async () => {
      const sim = await start();
      const c = await open(sim);
      const tickers = Array.from({ length: 257 }, (_, i) => `KXTEST-26FEB1217-T${i}`);
      c.send({ id: 1, cmd: 'subscribe', params: { channels: ['ticker'], market_tickers: tickers } });
      const err = await waitFor(() => ofType(c, 'error')[0], 'error');
      expect(err).toMatchObject({ type: 'error', id: 1, msg: { code: 2 } });
      expect(String(msgOf(err).msg)).toContain('256');
      c.send({ id: 2, cmd: 'subscribe', params: { channels: ['ticker'], market_tickers: tickers.slice(0, 256) } });
      await waitFor(() => ofType(c, 'subscribed')[0], 'ack for 256');
    });

    it('subscription-limit fault refuses the next subscribe with the same error', async () => {
      const sim = await start();
      const c = await open(sim);
      sim.inject({ kind: 'subscription-limit' });
      c.send({ id: 1, cmd: 'subscribe', params: { channels: ['trade'], market_tickers: [M1] } });
      c.send({ id: 2, cmd: 'subscribe', params: { channels: ['trade'], market_tickers: [M1] } });
      await waitFor(() => ofType(c, 'subscribed').length === 1, 'second subscribe accepted');
      expect(ofType(c, 'error')[0]).toMatchObject({ id: 1, msg: { code: 2 } });
    });

    it('answers the documented errors: already subscribed (6), unknown sid (7), and unsubscribes', async () => {
      const sim = await start();
      const c = await open(sim);
      c.send({ id: 1, cmd: 'subscribe', params: { channels: ['trade'], market_tickers: [M1] } });
      c.send({ id: 2, cmd: 'subscribe', params: { channels: ['trade'], market_tickers: [M1, M2] } });
      c.send({ id: 3, cmd: 'unsubscribe', params: { sids: [99] } });
      c.send({ id: 4, cmd: 'unsubscribe', params: { sids: [1] } });
      c.send({ id: 5, cmd: 'subscribe', params: { channels: ['orderbook_delta'] } });
      c.send({ id: 6, cmd: 'dance', params: {} });
      await waitFor(() => ofType(c, 'error').length === 4 && ofType(c, 'unsubscribed').length === 1, 'answers');
      expect(ofType(c, 'error').map((e) => [e.id, msgOf(e).code])).toEqual([[2, 6], [3, 7], [5, 2], [6, 5]]);
      expect(ofType(c, 'unsubscribed')[0]).toMatchObject({ id: 4, sid: 1 });
    });

    it('sequence-gap makes seq jump once on the sid', async () => {
      const sim = await start({ rate: 300 });
      const c = await open(sim);
      c.send({ id: 1, cmd: 'subscribe', params: { channels: ['trade'], market_tickers: [M1, M2] } });
      await waitFor(() => ofType(c, 'trade').length > 10, 'trades');
      sim.inject({ kind: 'sequence-gap', skip: 5 });
      const n = ofType(c, 'trade').length;
      await waitFor(() => ofType(c, 'trade').length > n + 10, 'more trades');
      const seqs = ofType(c, 'trade').map((t) => t.seq as number);
      const steps = seqs.slice(1).map((s, i) => s - (seqs[i] as number));
      expect(steps.filter((d) => d !== 1)).toEqual([6]);
    });

    it('carries both wire shapes by default, and each alone when asked', async () => {
      const shapes = async (wire: 'both' | 'cents' | 'dollars'): Promise<{ ticker: Record<string, unknown>; trade: Record<string, unknown> }> => {
        const sim = await start({ wire, rate: 300 });
        const c = await open(sim);
        c.send({ id: 1, cmd: 'subscribe', params: { channels: ['ticker', 'trade'], market_tickers: [M1] } });
        await waitFor(() => ofType(c, 'ticker').length > 0 && ofType(c, 'trade').length > 0, 'ticker and trade');
        return { ticker: msgOf(ofType(c, 'ticker')[0]!), trade: msgOf(ofType(c, 'trade')[0]!) };
      };
      const both = await shapes('both');
      expect(Object.keys(both.ticker)).toEqual(['market_id', 'market_ticker', 'price', 'yes_bid', 'yes_ask', 'price_dollars', 'yes_bid_dollars', 'yes_ask_dollars', 'volume', 'volume_fp', 'open_interest', 'open_interest_fp', 'dollar_volume', 'dollar_open_interest', 'yes_bid_size_fp', 'yes_ask_size_fp', 'last_trade_size_fp', 'ts', 'Clock']);
      expect(both.ticker.price_dollars).toBe(((both.ticker.price as number) / 100).toFixed(4));
      expect(Object.keys(both.trade)).toEqual(['trade_id', 'market_ticker', 'yes_price', 'no_price', 'yes_price_dollars', 'no_price_dollars', 'count', 'count_fp', 'taker_side', 'ts']);
      const dollars = await shapes('dollars');
      expect(dollars.ticker.price).toBeUndefined();
      expect(dollars.ticker.no_bid).toBeUndefined();
      expect(typeof dollars.ticker.ts_ms).toBe('number');
      expect(dollars.trade.yes_price).toBeUndefined();
      expect(dollars.trade.count_fp).toMatch(/^\d+\.\d\d$/);
      const cents = await shapes('cents');
      expect(typeof cents.ticker.Clock).toBe('number');
      expect(cents.ticker.volume_fp).toBeUndefined();
      expect(cents.trade.yes_price_dollars).toBeUndefined();
    });

    it('sends market_lifecycle_v2 and event_lifecycle occasionally, on global subscriptions', async () => {
      const sim = await start({ rate: 'max' });
      const c = await open(sim);
      c.send({ id: 1, cmd: 'subscribe', params: { channels: ['ticker', 'market_lifecycle_v2'] } });
      await waitFor(() => ofType(c, 'market_lifecycle_v2').length >= 20 && ofType(c, 'event_lifecycle').length >= 3, 'lifecycle', 10_000);
      const life = ofType(c, 'market_lifecycle_v2').map(msgOf);
      expect(life.length).toBeLessThan(ofType(c, 'ticker').length / 4);
      const documented = ['created', 'activated', 'deactivated', 'close_date_updated', 'metadata_updated', 'closed', 'determined', 'settled'];
      expect(life.every((m) => documented.includes(m.event_type as string) && active.includes(m.market_ticker as string))).toBe(true);
      for (const m of life.filter((x) => x.event_type === 'determined')) {
        expect(['yes', 'no']).toContain(m.result);
        expect(typeof m.settlement_value === 'number' || /^\d\.\d{4}$/.test(String(m.settlement_value))).toBe(true);
      }
      expect(Object.keys(msgOf(ofType(c, 'event_lifecycle')[0]!))).toEqual(['event_ticker', 'title', 'sub_title', 'collateral_return_type', 'series_ticker', 'strike_date', 'strike_period']);
      expect(new Set(ofType(c, 'ticker').map((t) => msgOf(t).market_ticker)).size).toBe(active.length);
    });

    it('sends WebSocket ping frames with body "heartbeat", and none while stale', async () => {
      const sim = await start({ heartbeatMs: 40 });
      const c = await open(sim);
      await waitFor(() => c.pings.length >= 3, 'pings');
      expect(c.pings.every((p) => p.data === 'heartbeat')).toBe(true);
      const t0 = performance.now();
      sim.inject({ kind: 'stale', ms: 300 });
      await waitFor(() => c.pings.some((p) => p.at > t0 + 300), 'pings after stale', 2000);
      expect(c.pings.filter((p) => p.at > t0 + 20 && p.at < t0 + 280)).toEqual([]);
    });
  });

  describe('REST', () => {
    it('cursor pagination returns every market exactly once', async () => {
      const sim = await start();
      const seen: string[] = [];
      let cursor = '';
      let pages = 0;
      do {
        const res = await fetch(`${sim.restUrl}/markets?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
        const body = (await res.json()) as { markets: Array<{ ticker: string }>; cursor: string };
        seen.push(...body.markets.map((m) => m.ticker));
        cursor = body.cursor;
        pages++;
      } while (cursor !== '');
      expect(pages).toBe(Math.ceil(inst.markets.length / 7));
      expect(seen).toEqual(inst.markets.map((m) => m.ticker));
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('filters markets and pages events with nested markets; limits are enforced', async () => {
      const sim = await start();
      const get = async (q: string): Promise<{ status: number; body: Record<string, unknown> }> => {
        const res = await fetch(`${sim.restUrl}${q}`);
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const open = (await get('/markets?status=open&series_ticker=KXBTCD&limit=100')).body.markets as Array<{ ticker: string; status: string }>;
      expect(open.length).toBe(10);
      expect(open.every((m) => m.status === 'active' && m.ticker.startsWith('KXBTCD-'))).toBe(true);
      const event = inst.events[1]!.event_ticker;
      expect(((await get(`/markets?event_ticker=${event}`)).body.markets as unknown[]).length).toBe(5);
      const events = (await get('/events?with_nested_markets=true&limit=2')).body;
      expect((events.events as Array<{ markets: unknown[] }>).map((e) => e.markets.length)).toEqual([5, 5]);
      expect(events.cursor).not.toBe('');
      expect((await get('/events?limit=201')).status).toBe(400);
      expect((await get('/markets?limit=1001')).status).toBe(400);
      expect((await get(`/markets/${M1}`)).body.market).toMatchObject({ ticker: M1 });
      expect((await get('/markets/NOPE')).status).toBe(404);
      expect(((await get('/series')).body.series as Array<{ ticker: string }>).map((s) => s.ticker)).toEqual(['KXBTCD', 'KXETHD']);
    });

    it('rest-429 answers 429 with Retry-After, then recovers', async () => {
      const sim = await start();
      sim.inject({ kind: 'rest-429', count: 2, retryAfterSec: 3 });
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${sim.restUrl}/markets`);
        expect(res.status).toBe(429);
        expect(res.headers.get('retry-after')).toBe('3');
        expect(await res.json()).toMatchObject({ error: { code: 'too_many_requests' } });
      }
      expect((await fetch(`${sim.restUrl}/markets`)).status).toBe(200);
    });
  });
});

describeCommonBehaviour({
  name: 'kalshi',
  start: (opts) => startKalshiSimulator({ keys: { k1: pkcs1.publicKey }, ...opts }),
  connect: (sim) => connect(sim.wsUrl, { headers: signedHeaders('k1', pkcs1.privateKey) }),
  subscribe: (c) => c.send({ id: 1, cmd: 'subscribe', params: { channels: ['ticker', 'trade', 'orderbook_delta'], market_tickers: [M1, M2] } }),
  isData: (t) => {
    const m = tryParse(t);
    return isObject(m) && DATA_TYPES.has(String(m.type));
  },
  isWellFormed: (t) => {
    const m = tryParse(t);
    if (!isObject(m) || typeof m.type !== 'string' || 'padding' in m) return false;
    if (!DATA_TYPES.has(m.type)) return true;
    const msg = msgOf(m);
    return typeof m.sid === 'number' && (typeof msg.market_ticker === 'string' || typeof msg.event_ticker === 'string');
  },
  replays: [
    {
      file: `${FIXTURES}/kalshi_ticker.jsonl`,
      subscribe: (c) => c.send({ id: 1, cmd: 'subscribe', params: { channels: ['trade', 'ticker'] } }),
      expected: (lines) => lines.map((l) => l.replace('"sid":1,', '"sid":2,')),
    },
    {
      file: `${FIXTURES}/kalshi_trade.jsonl`,
      subscribe: (c) => c.send({ id: 1, cmd: 'subscribe', params: { channels: ['market_lifecycle_v2', 'ticker', 'trade'] } }),
      expected: (lines) => lines.map((l) => l.replace('"sid":2,', '"sid":3,')),
    },
  ],
});
