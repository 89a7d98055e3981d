import { afterEach, describe, expect, it } from 'vitest';
import { polymarket, startPolymarketSimulator } from '../../simulators/src/index.js';
import type { PolymarketSimulatorOptions, SimulatorHandle } from '../../simulators/src/index.js';
import { describeCommonBehaviour } from './common-suite.js';
import { FIXTURES, connect, isObject, tryParse, waitFor } from './helpers.js';
import type { TestClient } from './helpers.js';

const inst = polymarket.makePolymarketInstruments();
const ASSETS = polymarket.marketsOf(inst).flatMap((m) => m.tokens);

const subscribeAll = (c: TestClient, custom = true): void => c.send({ assets_ids: ASSETS, type: 'market', custom_feature_enabled: custom });
/** Every JSON object received (array frames flattened). */
const objects = (c: TestClient): Array<Record<string, unknown>> =>
  c.texts().flatMap((t) => {
    const v = tryParse(t);
    return (Array.isArray(v) ? v : [v]).filter(isObject);
  });
const eventTypes = (c: TestClient): Set<string> => new Set(objects(c).map((o) => String(o.event_type ?? ('bids' in o ? 'book' : ''))));

describe('polymarket simulator', () => {
  const sims: SimulatorHandle[] = [];
  const start = async (opts: PolymarketSimulatorOptions = {}): Promise<SimulatorHandle> => {
    const sim = await startPolymarketSimulator(opts);
    sims.push(sim);
    return sim;
  };
  afterEach(async () => {
    for (const s of sims.splice(0)) await s.close();
  });

  it('sends one array frame with a book per asset, bids ascending and asks descending (best last)', async () => {
    const sim = await start();
    const c = await connect(sim.wsUrl);
    subscribeAll(c);
    await waitFor(() => c.frames.length > 0, 'initial books');
    const first = JSON.parse(c.frames[0]!.text) as Array<Record<string, unknown>>;
    expect(Array.isArray(first)).toBe(true);
    expect(first.map((b) => b.asset_id)).toEqual(ASSETS);
    for (const b of first) {
      expect(b.event_type === 'book' || b.event_type === undefined).toBe(true);
      expect(b).toMatchObject({ market: expect.stringMatching(/^0x[0-9a-f]{64}$/), hash: expect.stringMatching(/^[0-9a-f]{40}$/), timestamp: expect.stringMatching(/^\d{13}$/) });
      expect(['0.01', '0.001']).toContain(b.tick_size);
      const bids = (b.bids as Array<{ price: string; size: string }>).map((l) => Number(l.price));
      const asks = (b.asks as Array<{ price: string; size: string }>).map((l) => Number(l.price));
      expect(bids).toEqual([...bids].sort((x, y) => x - y));
      expect(asks).toEqual([...asks].sort((x, y) => y - x));
      expect(bids.at(-1)!).toBeLessThan(asks.at(-1)!);
    }
    // YES and NO books mirror each other: NO bids are 1 − YES asks
    const [yes, no] = first as [Record<string, unknown>, Record<string, unknown>];
    const yesAsks = (yes.asks as Array<{ price: string }>).map((l) => Math.round((1 - Number(l.price)) * 1000));
    expect((no.bids as Array<{ price: string }>).map((l) => Math.round(Number(l.price) * 1000))).toEqual(yesAsks);
  });

  it('answers PING with PONG and rejects other text with INVALID OPERATION', async () => {
    const sim = await start({ rate: 1 });
    const c = await connect(sim.wsUrl);
    c.send('PING');
    await waitFor(() => c.texts().includes('PONG'), 'PONG');
    c.send('hello');
    await waitFor(() => c.texts().includes('INVALID OPERATION'), 'INVALID OPERATION');
  });

  it('sends every event type with custom features on, in both price_change formats', async () => {
    const sim = await start({ rate: 'max' });
    const c = await connect(sim.wsUrl);
    subscribeAll(c);
    const wanted = ['book', 'price_change', 'last_trade_price', 'best_bid_ask', 'tick_size_change', 'new_market', 'market_resolved'];
    await waitFor(() => wanted.every((t) => eventTypes(c).has(t)), 'every event type');
    const changes = objects(c).filter((o) => o.event_type === 'price_change');
    const current = changes.filter((o) => Array.isArray(o.price_changes));
    const legacy = changes.filter((o) => Array.isArray(o.changes));
    expect(current.length).toBeGreaterThan(0);
    expect(legacy.length).toBeGreaterThan(0);
    expect(current[0]).not.toHaveProperty('asset_id');
    expect(Object.keys((current[0]!.price_changes as unknown[])[0] as object)).toEqual(['asset_id', 'price', 'size', 'side', 'hash', 'best_bid', 'best_ask']);
    expect(current.some((o) => (o.price_changes as unknown[]).length === 2)).toBe(true);
    expect(legacy[0]).toMatchObject({ asset_id: expect.any(String), hash: expect.any(String) });
    const trade = objects(c).find((o) => o.event_type === 'last_trade_price')!;
    expect(Object.keys(trade)).toEqual(['asset_id', 'event_type', 'fee_rate_bps', 'market', 'price', 'side', 'size', 'timestamp', 'transaction_hash']);
    const tick = objects(c).find((o) => o.event_type === 'tick_size_change')!;
    expect(tick).toMatchObject({ old_tick_size: expect.stringMatching(/^0\.0?01$/), new_tick_size: expect.stringMatching(/^0\.0?01$/) });
    const nm = objects(c).find((o) => o.event_type === 'new_market')!;
    expect((nm.assets_ids as unknown[]).length).toBe((nm.outcomes as unknown[]).length);
  });

  it('sends no custom-feature events when the flag is off', async () => {
    const sim = await start({ rate: 'max' });
    const c = await connect(sim.wsUrl);
    subscribeAll(c, false);
    await waitFor(() => c.frames.length > 3000, 'frames');
    const types = eventTypes(c);
    for (const t of ['best_bid_ask', 'new_market', 'market_resolved']) expect(types.has(t)).toBe(false);
    expect(types.has('price_change')).toBe(true);
  });

  it('accepts 500 assets and closes the connection (1008) on more', async () => {
    const sim = await start({ rate: 1 });
    const ids = Array.from({ length: 501 }, (_, i) => `${10n ** 76n + BigInt(i)}`);
    const ok = await connect(sim.wsUrl);
    ok.send({ assets_ids: ids.slice(0, 500), type: 'market' });
    await waitFor(() => ok.frames.length > 0, 'books');
    expect((JSON.parse(ok.frames[0]!.text) as unknown[]).length).toBe(500);
    ok.send({ assets_ids: ids.slice(500), operation: 'subscribe' });
    expect(await ok.closed).toEqual({ code: 1008, reason: polymarket.TOO_MANY_ASSETS.reason });
    const tooMany = await connect(sim.wsUrl);
    tooMany.send({ assets_ids: ids, type: 'market' });
    expect((await tooMany.closed).code).toBe(1008);
  });

  it('subscribes and unsubscribes later with the operation field', async () => {
    const sim = await start({ rate: 400 });
    const c = await connect(sim.wsUrl);
    const [a, b] = ASSETS as [string, string];
    c.send({ assets_ids: [a], type: 'market', custom_feature_enabled: false });
    await waitFor(() => c.frames.length > 5, 'data for a');
    c.send({ assets_ids: [b], operation: 'subscribe' });
    await waitFor(() => objects(c).some((o) => o.asset_id === b && 'bids' in o), 'book for b');
    c.send({ assets_ids: [a, b], operation: 'unsubscribe' });
    const n = c.frames.length;
    c.send('PING');
    await waitFor(() => c.texts().slice(n).includes('PONG'), 'PONG after unsubscribe');
    const pongAt = c.texts().lastIndexOf('PONG');
    expect(c.frames.length).toBe(pongAt + 1);
  });

  it('drops a client that stops sending PING, keeps one that pings', async () => {
    const sim = await start({ rate: 5, pingTimeoutMs: 300 });
    const silent = await connect(sim.wsUrl);
    const pinging = await connect(sim.wsUrl);
    const timer = setInterval(() => pinging.send('PING'), 60);
    try {
      const t0 = performance.now();
      expect((await silent.closed).code).toBe(1006);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
      expect(pinging.isClosed()).toBe(false);
    } finally {
      clearInterval(timer);
    }
  });

  describe('Gamma REST', () => {
    it('offset pagination returns every market once; arrays are JSON strings, volume a string', async () => {
      const sim = await start();
      const seen: Array<Record<string, unknown>> = [];
      for (let offset = 0; ; offset += 4) {
        const page = (await (await fetch(`${sim.restUrl}/markets?limit=4&offset=${offset}`)).json()) as Array<Record<string, unknown>>;
        seen.push(...page);
        if (page.length < 4) break;
      }
      const all = inst.events.flatMap((e) => e.markets);
      expect(seen.map((m) => m.conditionId)).toEqual(all.map((m) => m.conditionId));
      for (const m of seen) {
        expect(typeof m.clobTokenIds).toBe('string');
        expect(JSON.parse(m.clobTokenIds as string)).toHaveLength(2);
        expect(JSON.parse(m.outcomes as string)).toEqual(['Yes', 'No']);
        expect(typeof m.outcomePrices).toBe('string');
        expect(typeof m.volume).toBe('string');
        expect(typeof m.liquidity).toBe('string');
        expect(m.category).toBeNull();
      }
      const open = (await (await fetch(`${sim.restUrl}/markets?active=true&closed=false`)).json()) as unknown[];
      expect(open).toHaveLength(all.length - 1);
      const events = (await (await fetch(`${sim.restUrl}/events?limit=1000`)).json()) as Array<{ tags: unknown[]; markets: unknown[] }>;
      expect(events).toHaveLength(inst.events.length);
      expect(events[0]!.tags.length).toBeGreaterThan(0);
    });

    it('caps limit at 100 per page', async () => {
      const big = polymarket.makePolymarketInstruments({ events: 30, marketsPerEvent: 5 });
      const sim = await start({ instruments: big });
      const page = (await (await fetch(`${sim.restUrl}/markets?limit=500`)).json()) as unknown[];
      expect(page).toHaveLength(100);
    });

    it('rest-429 answers 429 with Retry-After, then recovers', async () => {
      const sim = await start();
      sim.inject({ kind: 'rest-429', count: 1 });
      const res = await fetch(`${sim.restUrl}/events`);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('1');
      expect((await fetch(`${sim.restUrl}/events`)).status).toBe(200);
    });
  });
});

describeCommonBehaviour({
  name: 'polymarket',
  start: (opts) => startPolymarketSimulator(opts),
  connect: (sim) => connect(sim.wsUrl),
  subscribe: (c) => subscribeAll(c),
  isData: (t) => t !== 'PONG' && t !== 'INVALID OPERATION',
  isWellFormed: (t) => {
    const v = tryParse(t);
    const items = Array.isArray(v) ? v : [v];
    return v !== undefined && items.every((o) => isObject(o) && !('padding' in o) && typeof o.market === 'string');
  },
  replays: [
    { file: `${FIXTURES}/polymarket_book.jsonl`, subscribe: (c) => subscribeAll(c), expected: (lines) => lines },
    { file: `${FIXTURES}/polymarket_trade.jsonl`, subscribe: (c) => subscribeAll(c), expected: (lines) => lines },
  ],
});
