import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKalshiSimulator } from '../../simulators/src/index.js';
import type { SimulatorHandle } from '../../simulators/src/index.js';
import { KalshiFeed } from '../src/kalshi/feed.js';
import { classify } from '../src/kalshi/messages.js';
import { chunkMarkets, shardMarkets, subscribeCommand } from '../src/kalshi/subscribe.js';
import type { KalshiFeedOptions } from '../src/kalshi/feed.js';
import type { WsSocket, WsTransport } from '../src/ws-feed-base.js';
import { dataFrames, describeFeedScenarios, lifecycle } from './feed-suite.js';
import { collect, waitFor } from './helpers.js';

const rsa = (type: 'pkcs1' | 'pkcs8') =>
  generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type, format: 'pem' } });
const pkcs8 = rsa('pkcs8');
const pkcs1 = rsa('pkcs1');
const stranger = rsa('pkcs8');
const KEYS = { k8: pkcs8.publicKey, k1: pkcs1.publicKey };
const MARKETS = ['KXBTCD-26FEB1217-T67749.99', 'KXBTCD-26FEB1217-T67999.99', 'KXETHD-26FEB1217-T1819.99'];
const M4 = 'KXETHD-26FEB1217-T1839.99';

const feedFor = (sim: SimulatorHandle, o: Partial<KalshiFeedOptions> = {}): KalshiFeed =>
  new KalshiFeed({ url: sim.wsUrl, credentials: { keyId: 'k8', privateKeyPem: pkcs8.privateKey }, markets: MARKETS, channels: ['ticker', 'trade', 'market_lifecycle_v2'], ...o });

describeFeedScenarios({
  venue: 'kalshi',
  classify,
  startSimulator: (o) => startKalshiSimulator({ keys: KEYS, ...o }),
  makeFeed: (sim, o) => feedFor(sim, o),
});

describe('kalshi feed: login, sequence, subscriptions, shards', () => {
  const { sims, feeds } = lifecycle();
  const start = async (o: Partial<KalshiFeedOptions> = {}, rate = 200) => {
    const sim = await startKalshiSimulator({ keys: KEYS, rate, seed: 3, record: true });
    sims.push(sim);
    const feed = feedFor(sim, { backoff: { baseMs: 20, capMs: 200 }, ...o });
    feeds.push(feed);
    return { sim, feed, c: collect(feed) };
  };
  const data = (c: ReturnType<typeof collect>, conn?: string) => dataFrames(c, classify, conn);

  it('signs with a PKCS#1 key too', async () => {
    const { c } = await start({ credentials: { keyId: 'k1', privateKeyPem: pkcs1.privateKey } });
    await waitFor(() => data(c).length >= 3, 'data');
  });

  it('a wrong key is refused (401) and the feed backs off with growing delays', async () => {
    const { sim, c } = await start({ credentials: { keyId: 'k8', privateKeyPem: stranger.privateKey }, random: () => 0.5, backoff: { baseMs: 20, capMs: 1000 } });
    await waitFor(() => c.of('disconnected').length >= 4, '4 refusals');
    const ds = c.of('disconnected').slice(0, 4);
    expect(ds.map((d) => d.reconnectInMs)).toEqual([10, 20, 40, 80]);
    for (const d of ds) expect(d.reason).toMatch(/^WebSocket upgrade refused: HTTP 401 .*authentication_error/);
    expect(c.of('error')[0]?.message).toMatch(/^kalshi: WebSocket upgrade refused: HTTP 401/);
    expect(c.of('connected')).toHaveLength(0);
    expect(sim.stats().rejectedAuth).toBeGreaterThanOrEqual(4);
  });

  it('sequence-gap: a gap event with the expected and the received seq', async () => {
    const { sim, c } = await start({ channels: ['trade'] });
    await waitFor(() => data(c).length >= 5, 'trades');
    sim.inject({ kind: 'sequence-gap', skip: 5 });
    const gap = await waitFor(() => c.of('gap')[0], 'a gap event');
    expect(gap.got - gap.expected).toBe(5);
    const trades = c.frames(gap.conn).map((f) => ({ f, s: classify(f.bytes).exSeq })).filter((x) => x.s?.sid === gap.sid);
    const at = trades.findIndex((x) => x.s?.seq === gap.got);
    expect(trades[at - 1]?.s?.seq).toBe(gap.expected - 1);
    await waitFor(() => trades.length > 0 && data(c).length >= at + 5, 'more trades');
    expect(c.of('gap')).toHaveLength(1); // seq follows on from the new value
  });

  it('updateMarkets adds and deletes markets with update_subscription, without reconnecting', async () => {
    const { sim, feed, c } = await start({ markets: MARKETS.slice(0, 1), channels: ['ticker', 'trade'] }, 400);
    const acks = (type: string) => c.frames().filter((f) => classify(f.bytes).type === type);
    await waitFor(() => acks('subscribed').length === 2 && data(c).length >= 3, 'acks and data');
    expect(feed.updateMarkets([M4])).toEqual([]);
    await waitFor(() => acks('ok').length === 2 && data(c).some((f) => classify(f.bytes).symbol === M4), `data for ${M4}`);
    expect(feed.updateMarkets([], [MARKETS[0] as string])).toEqual([]);
    await waitFor(() => acks('ok').length === 4, 'delete acks');
    const lastAck = acks('ok').at(-1)?.connSeq ?? 0;
    await waitFor(() => data(c).filter((f) => f.connSeq > lastAck).length >= 20, 'data after the delete');
    expect(data(c).filter((f) => f.connSeq > lastAck).map((f) => classify(f.bytes).symbol)).not.toContain(MARKETS[0]);
    expect(c.conns()).toHaveLength(1);
    expect(sim.stats().connectionsTotal).toBe(1);
  });

  it('shards 450 markets into 3 connections of 200/200/50; only shard 0 subscribes the global lifecycle channel', async () => {
    const markets = Array.from({ length: 450 }, (_, i) => `KXTEST-26FEB1217-T${1000 + i}`);
    const shards = shardMarkets(markets);
    expect(shards.map((s) => s.length)).toEqual([200, 200, 50]);
    const sim = await startKalshiSimulator({ keys: KEYS, rate: 100, seed: 3, record: true });
    sims.push(sim);
    const cs = shards.map((m, shard) => {
      const feed = feedFor(sim, { markets: m, shard, channels: ['ticker', 'market_lifecycle_v2'] });
      feeds.push(feed);
      return { c: collect(feed), mine: new Set(m) };
    });
    await waitFor(() => cs.every(({ c }) => data(c).filter((f) => classify(f.bytes).type === 'ticker').length >= 5), 'tickers on every shard');
    expect(sim.stats().connections).toBe(3);
    for (const { c, mine } of cs) {
      for (const f of data(c).filter((x) => classify(x.bytes).type === 'ticker')) expect(mine.has(classify(f.bytes).symbol)).toBe(true);
    }
    const subscribed = cs.map(({ c }) => c.frames().filter((f) => classify(f.bytes).type === 'subscribed').length);
    expect(subscribed).toEqual([2, 1, 1]);
    expect(() => feedFor(sim, { markets: markets.slice(0, 201) })).toThrow(/at most 200/);
  });

  it('subscription commands carry at most 256 markets', () => {
    expect(chunkMarkets(Array.from({ length: 600 }, (_, i) => `M${i}`)).map((c) => c.length)).toEqual([256, 256, 88]);
    expect(() => subscribeCommand(1, ['ticker'], Array.from({ length: 257 }, (_, i) => `M${i}`))).toThrow(/at most 256/);
    expect(JSON.parse(subscribeCommand(1, ['ticker', 'trade'], ['A']))).toEqual({ id: 1, cmd: 'subscribe', params: { channels: ['ticker', 'trade'], market_tickers: ['A'] } });
    expect(JSON.parse(subscribeCommand(2, ['market_lifecycle_v2']))).toEqual({ id: 2, cmd: 'subscribe', params: { channels: ['market_lifecycle_v2'] } });
  });
});

/** A transport the test drives by hand: what the feed sends, and frames pushed to it. */
class FakeTransport implements WsTransport {
  sent: string[] = [];
  private handlers: { message?: (b: Uint8Array, bin: boolean) => void } = {};
  push(o: unknown): void {
    this.handlers.message?.(Buffer.from(JSON.stringify(o)), false);
  }
  connect(): Promise<WsSocket> {
    const socket: WsSocket = {
      send: (d) => void this.sent.push(d),
      ping: () => undefined, close: () => undefined, terminate: () => undefined, pause: () => undefined, resume: () => undefined,
      on: ((event: string, fn: (b: Uint8Array, bin: boolean) => void) => {
        if (event === 'message') this.handlers.message = fn;
      }) as WsSocket['on'],
    };
    return Promise.resolve(socket);
  }
}

describe('kalshi feed: subscription bookkeeping (injected transport)', () => {
  const feeds: KalshiFeed[] = [];
  afterEach(() => {
    for (const f of feeds.splice(0)) void f.stop();
  });

  it('holds update_subscription until the sid is acked, then sends one per channel sid', async () => {
    const t = new FakeTransport();
    const feed = new KalshiFeed({ url: 'ws://fake/trade-api/ws/v2', transport: t, credentials: { keyId: 'k8', privateKeyPem: pkcs8.privateKey }, markets: ['A', 'B'], channels: ['ticker', 'trade', 'market_lifecycle_v2'], staleAfterMs: 0 });
    feeds.push(feed);
    const c = collect(feed);
    await waitFor(() => t.sent.length === 2, 'subscribes');
    expect(t.sent.map((s) => JSON.parse(s))).toEqual([
      { id: 1, cmd: 'subscribe', params: { channels: ['market_lifecycle_v2'] } },
      { id: 2, cmd: 'subscribe', params: { channels: ['ticker', 'trade'], market_tickers: ['A', 'B'] } },
    ]);
    expect(feed.updateMarkets(['C'], ['A'])).toEqual([]);
    expect(t.sent).toHaveLength(2); // no sid yet
    t.push({ type: 'subscribed', id: 2, msg: { channel: 'ticker', sid: 7 } });
    t.push({ type: 'subscribed', id: 2, msg: { channel: 'trade', sid: 8 } });
    expect(t.sent.slice(2).map((s) => JSON.parse(s))).toEqual([
      { id: 3, cmd: 'update_subscription', params: { sids: [7], market_tickers: ['A'], action: 'delete_markets' } },
      { id: 4, cmd: 'update_subscription', params: { sids: [7], market_tickers: ['C'], action: 'add_markets' } },
      { id: 5, cmd: 'update_subscription', params: { sids: [8], market_tickers: ['A'], action: 'delete_markets' } },
      { id: 6, cmd: 'update_subscription', params: { sids: [8], market_tickers: ['C'], action: 'add_markets' } },
    ]);
    feed.updateMarkets(['D']);
    expect(t.sent.slice(6).map((s) => JSON.parse(s).params)).toEqual([
      { sids: [7], market_tickers: ['D'], action: 'add_markets' },
      { sids: [8], market_tickers: ['D'], action: 'add_markets' },
    ]);
    // gap detection per sid: 1, 2, 5 on sid 8 → expected 3, got 5; sid 9 starting at 2 → expected 1
    for (const seq of [1, 2, 5, 6]) t.push({ type: 'trade', sid: 8, seq, msg: { market_ticker: 'B', yes_price: 50, count: 1 } });
    t.push({ type: 'trade', sid: 9, seq: 2, msg: { market_ticker: 'B' } });
    t.push({ type: 'error', id: 9, msg: { code: 6, msg: 'Already subscribed' } });
    await waitFor(() => c.of('gap').length === 2 && c.of('error').length === 1, 'gaps and the error');
    expect(c.of('gap').map((g) => [g.sid, g.expected, g.got])).toEqual([[8, 3, 5], [9, 1, 2]]);
    expect(c.of('error')[0]?.message).toContain('Already subscribed');
    // the markets that do not fit in maxPerConnection are returned
    expect(feed.updateMarkets(Array.from({ length: 300 }, (_, i) => `X${i}`))).toHaveLength(300 - (200 - 3));
  });

  it('refuses a key that is not an RSA private key PEM', () => {
    expect(() => new KalshiFeed({ credentials: { keyId: 'k', privateKeyPem: 'nope' }, markets: [] })).toThrow(/not a PEM private key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    expect(() => new KalshiFeed({ credentials: { keyId: 'k', privateKeyPem: ec.privateKey }, markets: [] })).toThrow(/not an RSA key/);
  });
});
