import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from '../../../../core/src/middleware/clock.js';
import { openCatalog, type Catalog } from '../../../../catalog/src/db/connect.js';
import { instrumentHistory, instrumentsAsOf } from '../../../../catalog/src/secmaster/secmaster.repository.js';
import { startKrakenSimulator, kraken, type SimulatorHandle } from '../../../simulators/src/index.js';
import { HttpError } from '../../src/http.js';
import { SecmasterSyncError } from '../../src/secmaster-sync.js';
import { syncKrakenInstruments, type KrakenSyncOptions } from '../../src/kraken/instruments.js';
import { RecordingClock, T0, copy, drive, keysAsOf, resetCatalog, runStatus, startProxy, type Proxy } from './helpers.js';

type Pairs = kraken.KrakenInstrument[];

const DOGE: kraken.KrakenInstrument = (() => {
  const d = copy(kraken.DEFAULT_KRAKEN_INSTRUMENTS[3]!);
  d.key = 'XDGUSD';
  d.symbol = 'DOGE/USD';
  Object.assign(d.pair, { altname: 'XDGUSD', wsname: 'XDG/USD', base: 'XXDG', pair_decimals: 7, tick_size: '0.0000001', ordermin: '50' });
  return d;
})();

describe('Kraken AssetPairs secmaster sync against the simulator (PGlite)', () => {
  let catalog: Catalog;
  let sim: SimulatorHandle | undefined;
  let proxy: Proxy | undefined;
  let clock: SimulatedClock;
  const base: Pairs = [...copy(kraken.DEFAULT_KRAKEN_INSTRUMENTS), DOGE];

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

  async function serve(instruments: Pairs): Promise<Proxy> {
    await proxy?.close();
    await sim?.close();
    sim = await startKrakenSimulator({ instruments });
    proxy = await startProxy(sim.restUrl);
    return proxy;
  }

  async function sync(opts: Partial<KrakenSyncOptions> = {}) {
    await clock.advanceBy(60_000);
    return drive(clock, syncKrakenInstruments(catalog.db, { baseUrl: proxy!.url, clock, ...opts }));
  }

  it('keys pairs by the v2 symbol from wsname (XBT→BTC, XDG→DOGE), keeps exact decimals, then sees nothing changed', async () => {
    const p = await serve(base);
    const first = await sync();
    expect(first.fetched).toEqual({ kraken_pairs: 5 });
    expect(first.outcomes.kraken_pairs).toEqual({ inserted: 5, changed: 0, unchanged: 0, delisted: 0, invalid: 0, duplicate: 0 });
    expect(p.requests.map((u) => u.pathname + u.search)).toEqual(['/0/public/AssetPairs']);
    expect(await keysAsOf(catalog.db, 'kraken_pairs', first.at)).toEqual(['BTC/USD', 'DOGE/USD', 'ETH/USD', 'POL/USD', 'SOL/USD']);
    // Each simulated pair's own v2 symbol agrees with the one derived from wsname.
    expect((await keysAsOf(catalog.db, 'kraken_pairs', first.at)).sort()).toEqual(base.map((b) => b.symbol).sort());
    expect((await instrumentsAsOf(catalog.db, 'kraken_pairs', first.at, 'BTC/USD'))[0]).toMatchObject({
      pair_key: 'XXBTZUSD', altname: 'XBTUSD', wsname: 'XBT/USD', base: 'BTC', quote: 'USD', status: 'online',
      pair_decimals: 1, lot_decimals: 8, cost_decimals: 5, tick_size: '0.1', ordermin: '0.00005', costmin: '0.5', run_id: first.runId,
    });
    expect((await instrumentsAsOf(catalog.db, 'kraken_pairs', first.at, 'POL/USD'))[0]).toMatchObject({ tick_size: '0.0001', pair_decimals: 4 });
    expect((await instrumentsAsOf(catalog.db, 'kraken_pairs', first.at, 'DOGE/USD'))[0]).toMatchObject({ pair_key: 'XDGUSD', base: 'DOGE', tick_size: '0.0000001' });

    const second = await sync();
    expect(second.outcomes.kraken_pairs).toMatchObject({ inserted: 0, changed: 0, unchanged: 5, delisted: 0 });
  });

  it('records a changed pair, answers as-of before and after, delists a removed pair on a full sync only', async () => {
    await serve(base);
    const first = await sync();
    const changed = copy(base);
    Object.assign(changed[1]!.pair, { status: 'cancel_only', ordermin: '0.0030' });
    changed[2]!.pair.fees = [[0, 0.3]]; // not a tracked column
    await serve(changed);
    const second = await sync();
    expect(second.outcomes.kraken_pairs).toMatchObject({ changed: 1, unchanged: 4 });
    expect((await instrumentsAsOf(catalog.db, 'kraken_pairs', first.at, 'ETH/USD'))[0]).toMatchObject({ status: 'online', ordermin: '0.002' });
    expect((await instrumentsAsOf(catalog.db, 'kraken_pairs', second.at, 'ETH/USD'))[0]).toMatchObject({ status: 'cancel_only', ordermin: '0.0030' });

    const removed = changed.filter((x) => x.symbol !== 'SOL/USD');
    await serve(removed);
    const filtered = await sync({ select: { pairs: ['XBTUSD', 'ETHUSD'] } });
    expect(filtered).toMatchObject({ full: false, fetched: { kraken_pairs: 2 } });
    expect(proxy!.requests[0]?.searchParams.get('pair')).toBe('XBTUSD,ETHUSD');
    expect(await keysAsOf(catalog.db, 'kraken_pairs', filtered.at)).toContain('SOL/USD');
    const full = await sync();
    expect(full.outcomes.kraken_pairs).toMatchObject({ delisted: 1, unchanged: 4 });
    expect(await keysAsOf(catalog.db, 'kraken_pairs', full.at)).not.toContain('SOL/USD');
    expect((await instrumentHistory(catalog.db, 'kraken_pairs', 'SOL/USD')).map((v) => v.valid_to)).toEqual([full.at]);
  });

  it('retries 429s (HTTP 429, and HTTP 200 with EAPI:Rate limit exceeded) and completes', async () => {
    const p = await serve(base);
    sim!.inject({ kind: 'rest-429', count: 2 });
    let limited = 1;
    p.intercept = () => (limited-- > 0 ? { status: 200, body: '{"error":["EAPI:Rate limit exceeded"]}' } : undefined);
    const rec = new RecordingClock(clock);
    const r = await drive(clock, syncKrakenInstruments(catalog.db, { baseUrl: p.url, clock: rec }));
    expect(rec.sleeps.map((ms) => Math.floor(ms / 5_000) * 5_000)).toEqual([5_000, 10_000, 20_000]);
    expect(p.requests).toHaveLength(4);
    expect(r.outcomes.kraken_pairs.inserted).toBe(5);
  });

  it('fails at once on a venue error, and after maxAttempts on a persistent 500, naming URL and status', async () => {
    await serve(base);
    const unknown = (await sync({ select: { pairs: ['NOPEUSD'] } }).catch((e: unknown) => e)) as SecmasterSyncError;
    expect(unknown).toBeInstanceOf(SecmasterSyncError);
    expect(unknown.message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/0\/public\/AssetPairs\?pair=NOPEUSD failed \(last status 200\): EQuery:Unknown asset pair$/);
    expect((unknown.cause as HttpError).attempts).toBe(1);
    expect(await runStatus(catalog.db, unknown.runId)).toMatchObject({ status: 'failed' });

    proxy!.intercept = () => ({ status: 500, body: '{"error":["EService:Internal error"]}' });
    const err = (await sync({ maxAttempts: 2 }).catch((e: unknown) => e)) as SecmasterSyncError;
    expect(err.message).toContain('/0/public/AssetPairs failed after 2 attempts (last status 500): HTTP 500: EService:Internal error');
    expect(await runStatus(catalog.db, err.runId)).toMatchObject({ status: 'failed', error: expect.stringContaining('last status 500') });
  });

  it('skips a pair without a usable wsname and a pair with wrong types', async () => {
    const bad = copy(base);
    delete (bad[0]!.pair as Record<string, unknown>).wsname;
    (bad[1]!.pair as Record<string, unknown>).pair_decimals = 'two';
    await serve(bad);
    const r = await sync();
    expect(r.outcomes.kraken_pairs).toMatchObject({ inserted: 3, invalid: 2 });
    expect(r.invalid.samples).toEqual([
      { entity: 'kraken_pairs', reason: 'pair XXBTZUSD: wsname: expected BASE/QUOTE, got nothing' },
      { entity: 'kraken_pairs', key: 'ETH/USD', reason: 'pair_decimals: expected an integer, got the string "two"' },
    ]);
  });

  it('an abort during backoff cancels the run without retrying further', async () => {
    const p = await serve(base);
    p.intercept = () => ({ status: 500, body: '{}' });
    const ac = new AbortController();
    const work = syncKrakenInstruments(catalog.db, { baseUrl: p.url, clock, signal: ac.signal });
    await vi.waitFor(() => expect(clock.pending).toBe(1)); // asleep before the second attempt
    ac.abort(new Error('operator stop'));
    const err = (await work.catch((e: unknown) => e)) as SecmasterSyncError;
    expect(err.message).toMatch(/^kraken secmaster sync cancelled \(run [0-9a-f-]+\): operator stop$/);
    expect(await runStatus(catalog.db, err.runId)).toMatchObject({ status: 'cancelled', error: 'operator stop' });
    expect(p.requests).toHaveLength(1);
  });
});
