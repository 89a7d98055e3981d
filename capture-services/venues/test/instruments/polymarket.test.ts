import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../../core/src/middleware/clock.js';
import { openCatalog, type Catalog } from '../../../../catalog/src/db/connect.js';
import { instrumentsAsOf } from '../../../../catalog/src/secmaster/secmaster.repository.js';
import { startPolymarketSimulator, polymarket, type SimulatorHandle } from '../../../simulators/src/index.js';
import { SecmasterSyncError } from '../../src/secmaster-sync.js';
import { syncPolymarketInstruments, type PolymarketSyncOptions } from '../../src/polymarket/instruments.js';
import { RecordingClock, T0, copy, drive, keysAsOf, resetCatalog, runStatus, startProxy, type Proxy } from './helpers.js';

type Instruments = polymarket.PolymarketInstruments;

describe('Polymarket (Gamma) secmaster sync against the simulator (PGlite)', () => {
  let catalog: Catalog;
  let sim: SimulatorHandle | undefined;
  let proxy: Proxy | undefined;
  let clock: SimulatedClock;
  const base: Instruments = polymarket.makePolymarketInstruments({ startTimeMs: T0, events: 7, marketsPerEvent: 3 });
  const markets = base.events.flatMap((e) => e.markets);

  beforeAll(async () => {
    catalog = await openCatalog('pglite:memory');
  });
  afterAll(() => catalog.close());
  beforeEach(async () => {
    await resetCatalog(catalog.db);
    clock = new SimulatedClock({ start: T0 });
  });
  afterEach(async () => {
    await proxy?.close();
    await sim?.close();
    proxy = sim = undefined;
  });

  async function serve(instruments: Instruments): Promise<Proxy> {
    await proxy?.close();
    await sim?.close();
    sim = await startPolymarketSimulator({ instruments });
    proxy = await startProxy(sim.restUrl);
    return proxy;
  }

  async function sync(opts: Partial<PolymarketSyncOptions> = {}) {
    await clock.advanceBy(60_000);
    return drive(clock, syncPolymarketInstruments(catalog.db, { baseUrl: proxy!.url, clock, pageSize: 2, batchSize: 5, ...opts }));
  }

  it('pages with offset/limit until a short page, maps events, conditions and tokens, then sees nothing changed', async () => {
    const p = await serve(base);
    const first = await sync();
    expect(first.fetched).toEqual({ polymarket_events: 7, polymarket_conditions: 21, polymarket_tokens: 42 });
    expect(first.outcomes.polymarket_tokens).toMatchObject({ inserted: 42, duplicate: 0, invalid: 0 });
    expect(p.requests.map((u) => [u.pathname, u.searchParams.get('limit'), u.searchParams.get('offset')])).toEqual([
      ['/events', '2', '0'], ['/events', '2', '2'], ['/events', '2', '4'], ['/events', '2', '6'],
    ]);
    expect(p.requests.every((u) => !u.searchParams.has('active') && !u.searchParams.has('closed'))).toBe(true);

    const ev = base.events[1]!;
    expect((await instrumentsAsOf(catalog.db, 'polymarket_events', first.at, ev.id))[0]).toMatchObject({
      slug: ev.slug, title: ev.title, category: 'Crypto', active: true, closed: false, neg_risk: false, start_date: null, end_date: null,
      tags: ev.tags.map(({ id, label, slug }) => ({ id, label, slug })),
    });
    const m = ev.markets[1]!;
    const tokens = JSON.parse(m.clobTokenIds) as string[];
    expect((await instrumentsAsOf(catalog.db, 'polymarket_conditions', first.at, m.conditionId))[0]).toMatchObject({
      event_id: ev.id, question_id: m.questionID, question: m.question, slug: m.slug, status: 'active', neg_risk: false,
      tick_size: String(m.orderPriceMinTickSize), min_order_size: '5', outcomes: ['Yes', 'No'], token_ids: tokens,
      end_date: new Date(m.endDate), winning_outcome: null, run_id: first.runId,
    });
    expect(await instrumentsAsOf(catalog.db, 'polymarket_tokens', first.at, tokens[1])).toMatchObject([
      { token_id: tokens[1], condition_id: m.conditionId, outcome: 'No', outcome_index: 1, status: 'active' },
    ]);
    const resolved = markets.find((x) => x.closed)!;
    expect((await instrumentsAsOf(catalog.db, 'polymarket_conditions', first.at, resolved.conditionId))[0]).toMatchObject({ status: 'settled', winning_outcome: 'Yes' });
    expect(new Set((await instrumentsAsOf(catalog.db, 'polymarket_conditions', first.at)).map((c) => c.tick_size))).toEqual(new Set(['0.01', '0.001']));

    // The same data with real arrays instead of JSON-encoded strings is the same instruments.
    const arrays = copy(base);
    for (const x of arrays.events.flatMap((e) => e.markets)) {
      (x as Record<string, unknown>).clobTokenIds = JSON.parse(x.clobTokenIds);
      (x as Record<string, unknown>).outcomes = JSON.parse(x.outcomes);
    }
    await serve(arrays);
    const second = await sync();
    for (const o of Object.values(second.outcomes)) expect(o).toMatchObject({ inserted: 0, changed: 0, delisted: 0, invalid: 0 });
    expect(second.outcomes.polymarket_tokens.unchanged).toBe(42);
  });

  it('records exactly the changed rows (tick size, resolution) and delists a removed event on a full sync only', async () => {
    await serve(base);
    const first = await sync();
    const changed = copy(base);
    const all = changed.events.flatMap((e) => e.markets);
    const tick = all[2]!;
    tick.orderPriceMinTickSize = tick.orderPriceMinTickSize === 0.01 ? 0.001 : 0.01;
    const done = all[4]!;
    Object.assign(done, { closed: true, acceptingOrders: false, winningOutcome: 'No' });
    await serve(changed);
    const second = await sync();
    expect(second.outcomes.polymarket_conditions).toMatchObject({ changed: 2, unchanged: 19 });
    expect(second.outcomes.polymarket_tokens).toMatchObject({ changed: 2, unchanged: 40 }); // the resolved market's two tokens
    expect(second.outcomes.polymarket_events).toMatchObject({ changed: 0, unchanged: 7 });
    const before = await instrumentsAsOf(catalog.db, 'polymarket_conditions', first.at, done.conditionId);
    const after = await instrumentsAsOf(catalog.db, 'polymarket_conditions', second.at, done.conditionId);
    expect([before[0]?.status, after[0]?.status, after[0]?.winning_outcome]).toEqual(['active', 'settled', 'No']);
    expect((await instrumentsAsOf(catalog.db, 'polymarket_tokens', second.at, JSON.parse(done.clobTokenIds)[0]))[0]?.status).toBe('settled');

    const removed = copy(changed);
    const gone = removed.events.splice(2, 1)[0]!;
    await serve(removed);
    const filtered = await sync({ select: { active: true } });
    expect(filtered.full).toBe(false);
    expect(Object.values(filtered.outcomes).every((o) => o.delisted === 0)).toBe(true);
    expect(proxy!.requests.every((u) => u.searchParams.get('active') === 'true')).toBe(true);
    const third = await sync();
    expect(third.outcomes.polymarket_events).toMatchObject({ delisted: 1, unchanged: 6 });
    expect(third.outcomes.polymarket_conditions).toMatchObject({ delisted: 3, unchanged: 18 });
    expect(third.outcomes.polymarket_tokens).toMatchObject({ delisted: 6, unchanged: 36 });
    expect(await keysAsOf(catalog.db, 'polymarket_events', third.at)).not.toContain(gone.id);
    expect(await keysAsOf(catalog.db, 'polymarket_events', second.at)).toContain(gone.id);
  });

  it('retries 429s and completes', async () => {
    await serve(base);
    sim!.inject({ kind: 'rest-429', count: 2, retryAfterSec: 7 });
    const rec = new RecordingClock(clock);
    const r = await drive(clock, syncPolymarketInstruments(catalog.db, { baseUrl: proxy!.url, clock: rec, pageSize: 2 }));
    expect(rec.sleeps).toHaveLength(2);
    expect(rec.sleeps[0]).toBeGreaterThanOrEqual(7_000); // Retry-After 7 s beats the 5 s minimum
    expect(rec.sleeps[1]).toBeGreaterThanOrEqual(14_000);
    expect(r.fetched.polymarket_tokens).toBe(42);
    expect(await runStatus(catalog.db, r.runId)).toMatchObject({ status: 'succeeded' });
  });

  it('a page failing with 500 beyond maxAttempts fails the run with the URL and status', async () => {
    const p = await serve(base);
    p.intercept = (u) => (u.searchParams.get('offset') === '4' ? { status: 503, body: 'upstream unavailable' } : undefined);
    const err = (await sync({ maxAttempts: 4 }).catch((e: unknown) => e)) as SecmasterSyncError;
    expect(err).toBeInstanceOf(SecmasterSyncError);
    expect(err.message).toContain(`GET ${p.url}/events?limit=2&offset=4 failed after 4 attempts (last status 503): HTTP 503: upstream unavailable`);
    expect(await runStatus(catalog.db, err.runId)).toMatchObject({ status: 'failed' });
    expect(err.partial.fetched.polymarket_events).toBe(4);
  });

  it('skips malformed markets and tokens with a reason', async () => {
    const bad = copy(base);
    const all = bad.events.flatMap((e) => e.markets) as unknown as Array<Record<string, unknown>>;
    all[0]!.clobTokenIds = '["123", broken';
    delete all[1]!.conditionId;
    all[2]!.clobTokenIds = '[12345678901234567890123456789, 1]';
    all[3]!.orderMinSize = 'five';
    (bad.events[6] as unknown as Record<string, unknown>).id = { nested: true };
    await serve(bad);
    const r = await sync();
    expect(r.outcomes.polymarket_conditions).toMatchObject({ invalid: 4, inserted: 17 });
    expect(r.outcomes.polymarket_tokens).toMatchObject({ inserted: 34 });
    expect(r.outcomes.polymarket_events).toMatchObject({ invalid: 1, inserted: 6 });
    expect(r.invalid.samples.map((s) => s.reason)).toEqual(expect.arrayContaining([
      'clobTokenIds: expected an array of token id strings (or one JSON-encoded), got the string "[\\"123\\", broken"',
      'missing conditionId',
      expect.stringMatching(/^clobTokenIds: expected an array of token id strings/),
      'orderMinSize: expected a decimal number or string, got the string "five"',
      'id: expected a non-empty string, got object',
    ]));
    expect(await runStatus(catalog.db, r.runId)).toMatchObject({ status: 'succeeded' });
  });
});
