import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../../core/src/middleware/clock.js';
import { openCatalog, type Catalog } from '../../../../catalog/src/db/connect.js';
import { instrumentsAsOf } from '../../../../catalog/src/secmaster/secmaster.repository.js';
import { startPostgres, type PostgresDatabase } from '../../../../test/harness/postgres.js';
import { kalshi, polymarket, startKalshiSimulator, startPolymarketSimulator, type SimulatorHandle } from '../../../simulators/src/index.js';
import { syncKalshiInstruments } from '../../src/kalshi/instruments.js';
import { syncPolymarketInstruments } from '../../src/polymarket/instruments.js';
import { T0, copy, drive, keysAsOf, runStatus } from './helpers.js';

describe('secmaster sync on a real Postgres', () => {
  let pg: PostgresDatabase;
  let catalog: Catalog;
  const sims: SimulatorHandle[] = [];
  beforeAll(async () => {
    pg = await startPostgres();
    catalog = await openCatalog(pg.url);
  });
  afterAll(async () => {
    for (const s of sims) await s.close();
    await catalog?.close();
    await pg?.stop();
  });

  it('two venues sync concurrently (each with its own session temp table), then a change and a delisting', async () => {
    const k = kalshi.makeKalshiInstruments({ startTimeMs: T0, eventsPerSeries: 4, marketsPerEvent: 5 });
    const p = polymarket.makePolymarketInstruments({ startTimeMs: T0, events: 5, marketsPerEvent: 2 });
    const ks = await startKalshiSimulator({ instruments: k });
    const ps = await startPolymarketSimulator({ instruments: p });
    sims.push(ks, ps);
    const clock = new SimulatedClock({ start: T0 });
    const opts = { clock, pageSize: 2, batchSize: 3, spacingMs: 0 };
    const [a, b] = await drive(clock, Promise.all([
      syncKalshiInstruments(catalog.db, { ...opts, baseUrl: ks.restUrl }),
      syncPolymarketInstruments(catalog.db, { ...opts, baseUrl: ps.restUrl }),
    ]));
    expect(a.outcomes.kalshi_markets).toMatchObject({ inserted: 40, invalid: 0, duplicate: 0 });
    expect(b.outcomes.polymarket_tokens).toMatchObject({ inserted: 20, invalid: 0, duplicate: 0 });
    expect((await instrumentsAsOf(catalog.db, 'kalshi_markets', a.at, k.markets[9]!.ticker))[0]).toMatchObject({
      floor_strike: String(k.markets[9]!.floor_strike), series_ticker: 'KXBTCD', open_time: new Date(k.markets[9]!.open_time as string),
    });

    const k2 = copy(k);
    k2.markets[1]!.status = 'closed';
    const gone = k2.markets.splice(30, 1)[0]!;
    const ks2 = await startKalshiSimulator({ instruments: k2 });
    sims.push(ks2);
    await clock.advanceBy(60_000);
    const c = await drive(clock, syncKalshiInstruments(catalog.db, { ...opts, baseUrl: ks2.restUrl }));
    expect(c.outcomes.kalshi_markets).toMatchObject({ changed: 1, delisted: 1, unchanged: 38 });
    expect(await keysAsOf(catalog.db, 'kalshi_markets', c.at)).not.toContain(gone.ticker);
    expect(await keysAsOf(catalog.db, 'kalshi_markets', a.at)).toContain(gone.ticker);
    expect(await runStatus(catalog.db, c.runId)).toMatchObject({ status: 'succeeded', feed: 'kalshi' });
  });
});
