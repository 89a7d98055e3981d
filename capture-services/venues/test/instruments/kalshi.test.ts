import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../../core/src/middleware/clock.js';
import { ConfigError } from '../../../../core/src/errors.js';
import { openCatalog, type Catalog } from '../../../../catalog/src/db/connect.js';
import { instrumentHistory, instrumentsAsOf } from '../../../../catalog/src/secmaster/secmaster.repository.js';
import { startKalshiSimulator, kalshi, type SimulatorHandle } from '../../../simulators/src/index.js';
import { SecmasterSyncError } from '../../src/secmaster-sync.js';
import { syncKalshiInstruments, type KalshiSyncOptions } from '../../src/kalshi/instruments.js';
import { RecordingClock, T0, copy, drive, keysAsOf, resetCatalog, runStatus, startProxy, type Proxy } from './helpers.js';

type Instruments = kalshi.KalshiInstruments;

describe('Kalshi secmaster sync against the simulator (PGlite)', () => {
  let catalog: Catalog;
  let sim: SimulatorHandle | undefined;
  let proxy: Proxy | undefined;
  let clock: SimulatedClock;
  const base: Instruments = kalshi.makeKalshiInstruments({ startTimeMs: T0, eventsPerSeries: 7, marketsPerEvent: 5 });

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

  /** (Re)start the simulator with these instruments behind a counting proxy. */
  async function serve(instruments: Instruments): Promise<Proxy> {
    await proxy?.close();
    await sim?.close();
    sim = await startKalshiSimulator({ instruments });
    proxy = await startProxy(sim.restUrl);
    return proxy;
  }

  async function sync(opts: Partial<KalshiSyncOptions> = {}) {
    await clock.advanceBy(60_000);
    return drive(clock, syncKalshiInstruments(catalog.db, { baseUrl: proxy!.url, clock, pageSize: 3, batchSize: 4, spacingMs: 0, ...opts }));
  }

  it('fetches every instrument once across pages, maps the fields, then sees nothing changed', async () => {
    const p = await serve(base);
    const first = await sync({ spacingMs: undefined }); // the production 300 ms spacing, on the simulated clock
    expect(first.full).toBe(true);
    expect(first.fetched).toEqual({ kalshi_series: 2, kalshi_events: 14, kalshi_markets: 70 });
    expect(first.outcomes.kalshi_series).toEqual({ inserted: 2, changed: 0, unchanged: 0, delisted: 0, invalid: 0, duplicate: 0 });
    expect(first.outcomes.kalshi_events).toMatchObject({ inserted: 14, duplicate: 0, invalid: 0 });
    expect(first.outcomes.kalshi_markets).toMatchObject({ inserted: 70, duplicate: 0, invalid: 0 });
    expect(first.at.getTime()).toBe(T0 + 60_000);
    // 1 series page, ceil(14 / 3) = 5 event pages with nested markets, no separate market calls.
    const paths = p.requests.map((u) => u.pathname.replace('/trade-api/v2', ''));
    expect(paths).toEqual(['/series', ...Array(5).fill('/events')]);
    const eventPages = p.requests.filter((u) => u.pathname.endsWith('/events'));
    expect(eventPages.every((u) => u.searchParams.get('with_nested_markets') === 'true' && u.searchParams.get('limit') === '3')).toBe(true);
    expect(new Set(eventPages.map((u) => u.searchParams.get('cursor'))).size).toBe(5);
    expect((await keysAsOf(catalog.db, 'kalshi_markets', first.at)).sort()).toEqual(base.markets.map((m) => m.ticker).sort());

    const m = base.markets[7]!;
    const [row] = await instrumentsAsOf(catalog.db, 'kalshi_markets', first.at, m.ticker);
    expect(row).toMatchObject({
      ticker: m.ticker, event_ticker: m.event_ticker, series_ticker: 'KXBTCD', title: m.title, subtitle: m.subtitle,
      yes_sub_title: m.yes_sub_title, no_sub_title: m.no_sub_title, status: 'active', market_type: 'binary',
      open_time: new Date(m.open_time as string), close_time: new Date(m.close_time as string),
      expected_expiration_time: new Date(m.expected_expiration_time as string), strike_type: 'greater',
      floor_strike: String(m.floor_strike), cap_strike: null, price_units: 'cents', can_close_early: true, result: null,
      valid_from: first.at, valid_to: null, run_id: first.runId,
    });
    const settled = base.markets[0]!;
    expect((await instrumentsAsOf(catalog.db, 'kalshi_markets', first.at, settled.ticker))[0]).toMatchObject({ status: 'settled', result: settled.result });
    const [series] = await instrumentsAsOf(catalog.db, 'kalshi_series', first.at, 'KXETHD');
    expect(series).toMatchObject({ title: base.series[1]!.title, category: 'Crypto', frequency: 'hourly', tags: ['ETH'], fee_type: 'quadratic', fee_multiplier: '1' });
    const ev = base.events[8]!;
    expect((await instrumentsAsOf(catalog.db, 'kalshi_events', first.at, ev.event_ticker))[0]).toMatchObject({
      series_ticker: 'KXETHD', title: ev.title, sub_title: ev.sub_title, category: 'Crypto', mutually_exclusive: false,
      strike_date: new Date(ev.strike_date), strike_period: 'hour',
    });
    expect(await runStatus(catalog.db, first.runId)).toEqual({ status: 'succeeded', error: null, kind: 'secmaster-sync', feed: 'kalshi' });

    const second = await sync();
    expect(second.outcomes.kalshi_series).toMatchObject({ inserted: 0, changed: 0, unchanged: 2, delisted: 0 });
    expect(second.outcomes.kalshi_events).toMatchObject({ inserted: 0, changed: 0, unchanged: 14, delisted: 0 });
    expect(second.outcomes.kalshi_markets).toMatchObject({ inserted: 0, changed: 0, unchanged: 70, delisted: 0 });
  });

  it('records exactly the changed rows, as-of answers differ before and after, and a full sync delists what is gone', async () => {
    await serve(base);
    const first = await sync();

    const changed = copy(base);
    const [a, b] = [changed.markets[5]!, changed.markets[12]!];
    a.status = 'closed';
    b.yes_bid = 50; // price: not reference data, no new version
    b.yes_bid_dollars = '0.5000';
    b.floor_strike = 67_300.5;
    changed.series[1]!.title = 'Ethereum, renamed';
    await serve(changed);
    const second = await sync();
    expect(second.outcomes.kalshi_markets).toMatchObject({ inserted: 0, changed: 2, unchanged: 68, delisted: 0 });
    expect(second.outcomes.kalshi_series).toMatchObject({ changed: 1, unchanged: 1 });
    expect(second.outcomes.kalshi_events).toMatchObject({ changed: 0, unchanged: 14 });
    const before = await instrumentsAsOf(catalog.db, 'kalshi_markets', new Date(second.at.getTime() - 1), a.ticker);
    const after = await instrumentsAsOf(catalog.db, 'kalshi_markets', second.at, a.ticker);
    expect(before[0]?.status).toBe('active');
    expect(after[0]?.status).toBe('closed');
    expect((await instrumentsAsOf(catalog.db, 'kalshi_markets', first.at, b.ticker))[0]?.floor_strike).toBe(String(base.markets[12]!.floor_strike));
    expect((await instrumentsAsOf(catalog.db, 'kalshi_markets', second.at, b.ticker))[0]?.floor_strike).toBe('67300.5');
    const history = await instrumentHistory(catalog.db, 'kalshi_markets', a.ticker);
    expect(history.map((v) => [v.status, v.valid_from, v.valid_to, v.run_id])).toEqual([
      ['active', first.at, second.at, first.runId],
      ['closed', second.at, null, second.runId],
    ]);

    // Remove one market and one whole event (with its 5 markets).
    const removed = copy(changed);
    const goneEvent = removed.events.splice(3, 1)[0]!;
    removed.markets = removed.markets.filter((m) => m.event_ticker !== goneEvent.event_ticker);
    const goneMarket = removed.markets.splice(20, 1)[0]!;
    await serve(removed);
    const third = await sync();
    expect(third.outcomes.kalshi_events).toMatchObject({ delisted: 1, unchanged: 13 });
    expect(third.outcomes.kalshi_markets).toMatchObject({ delisted: 6, unchanged: 64 });
    expect(await instrumentsAsOf(catalog.db, 'kalshi_markets', third.at, goneMarket.ticker)).toEqual([]);
    expect(await instrumentsAsOf(catalog.db, 'kalshi_markets', second.at, goneMarket.ticker)).toHaveLength(1);
    expect((await instrumentHistory(catalog.db, 'kalshi_events', goneEvent.event_ticker)).at(-1)?.valid_to).toEqual(third.at);

    // A filtered sync never delists, even for its own series.
    const fewer = copy(removed);
    const btcMarket = fewer.markets.splice(fewer.markets.findIndex((m) => m.event_ticker.startsWith('KXBTCD-')), 1)[0]!;
    await serve(fewer);
    const filtered = await sync({ select: { series: ['KXBTCD'] } });
    expect(filtered.full).toBe(false);
    expect(filtered.fetched).toEqual({ kalshi_series: 1, kalshi_events: 6, kalshi_markets: 28 });
    expect(Object.values(filtered.outcomes).every((o) => o.delisted === 0)).toBe(true);
    expect(await instrumentsAsOf(catalog.db, 'kalshi_markets', filtered.at, btcMarket.ticker)).toHaveLength(1);
    expect(proxy!.requests.filter((u) => u.pathname.endsWith('/events')).every((u) => u.searchParams.get('series_ticker') === 'KXBTCD')).toBe(true);
  });

  it('retries 429s after max(5 s, Retry-After) with backoff, on the clock, and completes', async () => {
    await serve(base);
    sim!.inject({ kind: 'rest-429', count: 2, retryAfterSec: 1 });
    const rec = new RecordingClock(clock);
    const r = await drive(clock, syncKalshiInstruments(catalog.db, { baseUrl: proxy!.url, clock: rec, pageSize: 3, spacingMs: 0 }));
    expect(rec.sleeps).toHaveLength(2);
    expect(rec.sleeps[0]).toBeGreaterThanOrEqual(5_000);
    expect(rec.sleeps[0]).toBeLessThan(5_501);
    expect(rec.sleeps[1]).toBeGreaterThanOrEqual(10_000);
    expect(rec.sleeps[1]).toBeLessThan(11_001);
    expect(proxy!.requests).toHaveLength(1 + 2 + 5);
    expect(r.fetched.kalshi_markets).toBe(70);
    expect(await runStatus(catalog.db, r.runId)).toMatchObject({ status: 'succeeded' });
  });

  it('a page failing with 500 beyond maxAttempts fails the run; earlier batches stay, nothing is delisted', async () => {
    await serve(base);
    const first = await sync();
    const fewer = copy(base);
    const gone = fewer.events.splice(13, 1)[0]!;
    fewer.markets = fewer.markets.filter((m) => m.event_ticker !== gone.event_ticker);
    fewer.markets[0]!.title = 'seen before the failure';
    const p = await serve(fewer);
    p.intercept = (u) => (u.pathname.endsWith('/events') && u.searchParams.has('cursor') ? { status: 500, body: '{"error":{"code":"internal","message":"boom"}}' } : undefined);
    const err = await sync({ maxAttempts: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecmasterSyncError);
    const e = err as SecmasterSyncError;
    expect(e.message).toMatch(/^kalshi secmaster sync failed \(run [0-9a-f-]+\): GET http:\/\/127\.0\.0\.1:\d+\/trade-api\/v2\/events\?\S+ failed after 3 attempts \(last status 500\): HTTP 500: internal: boom$/);
    expect(await runStatus(catalog.db, e.runId)).toMatchObject({ status: 'failed', error: expect.stringMatching(/failed after 3 attempts \(last status 500\)/) });
    expect(p.requests.filter((u) => u.searchParams.has('cursor'))).toHaveLength(3);
    // The first page's batches were written at the failed run's instant and stay (true observations) ...
    const at = e.partial.at;
    expect((await instrumentsAsOf(catalog.db, 'kalshi_markets', at, fewer.markets[0]!.ticker))[0]).toMatchObject({ title: 'seen before the failure', run_id: e.runId });
    expect(e.partial.outcomes.kalshi_markets.changed).toBe(1);
    // ... but the event the venue no longer returns is not delisted by an incomplete sync.
    expect(await keysAsOf(catalog.db, 'kalshi_events', at)).toContain(gone.event_ticker);
    expect(Object.values(e.partial.outcomes).every((o) => o.delisted === 0)).toBe(true);
    expect(first.outcomes.kalshi_events.inserted).toBe(14);
  });

  it('skips malformed rows with a reason, never delists them, and records the rest', async () => {
    await serve(base);
    await sync();
    const bad = copy(base) as unknown as { series: Array<Record<string, unknown>>; events: Array<Record<string, unknown>>; markets: Array<Record<string, unknown>> };
    bad.markets[3]!.ticker = 42;
    bad.markets[4]!.floor_strike = 'abc';
    bad.markets[8]!.open_time = 'not a time';
    bad.events[2]!.mutually_exclusive = 'maybe';
    bad.series[0]!.tags = 'oops';
    await serve(bad as unknown as Instruments);
    const r = await sync();
    expect(r.outcomes.kalshi_markets).toMatchObject({ invalid: 3, unchanged: 67, delisted: 1 }); // the ticker-less one cannot be protected
    expect(r.outcomes.kalshi_events).toMatchObject({ invalid: 1, unchanged: 13, delisted: 0 });
    expect(r.outcomes.kalshi_series).toMatchObject({ invalid: 1, unchanged: 1, delisted: 0 });
    expect(r.invalid.count).toBe(5);
    expect(r.invalid.samples).toEqual(expect.arrayContaining([
      { entity: 'kalshi_markets', reason: 'ticker: expected a non-empty string, got number' },
      { entity: 'kalshi_markets', key: base.markets[4]!.ticker, reason: 'floor_strike: expected a decimal number or string, got the string "abc"' },
      { entity: 'kalshi_markets', key: base.markets[8]!.ticker, reason: 'open_time: expected an RFC 3339 time or epoch number, got the string "not a time"' },
      { entity: 'kalshi_events', key: base.events[2]!.event_ticker, reason: 'mutually_exclusive: expected a boolean, got the string "maybe"' },
      { entity: 'kalshi_series', key: 'KXBTCD', reason: 'tags: expected an array of strings, got the string "oops"' },
    ]));
    // Malformed but identifiable: still listed as of the last good observation.
    expect(await instrumentsAsOf(catalog.db, 'kalshi_markets', r.at, base.markets[4]!.ticker)).toHaveLength(1);
    expect(await instrumentsAsOf(catalog.db, 'kalshi_markets', r.at, base.markets[3]!.ticker)).toEqual([]);
    expect(await runStatus(catalog.db, r.runId)).toMatchObject({ status: 'succeeded' });
  });

  it('fetches markets per event when an event comes without nested markets', async () => {
    const p = await serve(base);
    p.transform = (u, body) => {
      if (!u.pathname.endsWith('/events')) return body;
      const b = body as { events: Array<Record<string, unknown>> };
      return { ...b, events: b.events.map(({ markets: _, ...e }) => e) };
    };
    const r = await sync();
    expect(r.fetched).toEqual({ kalshi_series: 2, kalshi_events: 14, kalshi_markets: 70 });
    expect(r.outcomes.kalshi_markets.inserted).toBe(70);
    const marketCalls = p.requests.filter((u) => u.pathname.endsWith('/markets'));
    expect(marketCalls).toHaveLength(14 * 2); // 5 markets per event, 3 per page
    expect((await instrumentsAsOf(catalog.db, 'kalshi_markets', r.at, base.markets[40]!.ticker))[0]?.series_ticker).toBe('KXETHD');
  });

  it('honours the status filter compatibility rules and passes valid filters through', async () => {
    const p = await serve(base);
    await expect(sync({ select: { status: ['open'], minCloseTs: 1_700_000_000 } })).rejects.toBeInstanceOf(ConfigError);
    await expect(sync({ select: { status: ['active' as never] } })).rejects.toThrow(/status: expected open, closed, settled, got "active"/);
    expect(p.requests).toHaveLength(0);
    const r = await sync({ select: { status: ['open'] } });
    expect(r.full).toBe(false);
    expect(r.fetched.kalshi_events).toBe(12); // the first event of each series is settled
    expect(p.requests.filter((u) => u.pathname.endsWith('/events')).every((u) => u.searchParams.get('status') === 'open')).toBe(true);
    const closed = await sync({ select: { status: ['closed'], minCloseTs: 1_700_000_000 } });
    expect(p.requests.at(-1)?.searchParams.get('min_close_ts')).toBe('1700000000');
    expect(closed.full).toBe(false);
  });

  it('derives price_units from the wire shape: dollars when only the _dollars strings are sent', async () => {
    const dollarsOnly = copy(base) as unknown as Instruments;
    for (const m of dollarsOnly.markets as Array<Record<string, unknown>>) for (const k of ['yes_bid', 'yes_ask', 'no_bid', 'no_ask', 'last_price']) delete m[k];
    await serve(dollarsOnly);
    const r = await sync();
    const rows = await instrumentsAsOf(catalog.db, 'kalshi_markets', r.at);
    expect(new Set(rows.map((x) => x.price_units))).toEqual(new Set(['dollars']));
  });
});
