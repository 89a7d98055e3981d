import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeOnBothCatalogs } from './context.js';
import { recordInstruments, instrumentsAsOf, instrumentHistory, delistInstrument } from '../src/secmaster/secmaster.repository.js';
import { SECMASTER, SECMASTER_ENTITIES } from '../src/secmaster/entities.js';
import { OutOfOrderVersionError } from '../src/timeseries/timeseries.js';

const T = (s: string) => new Date(`2026-11-${s}Z`);

describeOnBothCatalogs('secmaster time series', (catalog) => {
  it('keeps every version of a market and answers as-of queries across them', async () => {
    const { db } = catalog();
    const base = { event_ticker: 'KXBTCD-26NOV30', series_ticker: 'KXBTCD', title: 'BTC above 98000?', status: 'initialized', floor_strike: '98000', tick_size: '0.01', close_time: T('30T21:00:00') };
    expect((await recordInstruments(db, 'kalshi_markets', [{ ticker: 'KXBTCD-26NOV30-T98000', ...base }], T('28T10:00:00'))).inserted).toBe(1);
    // Same content again later: no new version.
    expect((await recordInstruments(db, 'kalshi_markets', [{ ticker: 'KXBTCD-26NOV30-T98000', ...base, floor_strike: '98000.00' }], T('28T11:00:00'))).unchanged).toBe(1);
    // Status changes twice.
    expect((await recordInstruments(db, 'kalshi_markets', [{ ticker: 'KXBTCD-26NOV30-T98000', ...base, status: 'open' }], T('29T00:00:00'))).changed).toBe(1);
    await recordInstruments(db, 'kalshi_markets', [{ ticker: 'KXBTCD-26NOV30-T98000', ...base, status: 'closed' }], T('30T21:00:00'));

    const hist = await instrumentHistory(db, 'kalshi_markets', 'KXBTCD-26NOV30-T98000');
    expect(hist.map((h) => h.status)).toEqual(['initialized', 'open', 'closed']);
    expect(hist[0]!.valid_to?.toISOString()).toBe('2026-11-29T00:00:00.000Z');
    expect(hist[2]!.valid_to).toBeNull();

    const statusAt = async (t: string) => (await instrumentsAsOf(db, 'kalshi_markets', T(t), 'KXBTCD-26NOV30-T98000'))[0]?.status;
    expect(await statusAt('28T09:59:59')).toBeUndefined();
    expect(await statusAt('28T10:00:00')).toBe('initialized');
    expect(await statusAt('28T23:59:59')).toBe('initialized');
    expect(await statusAt('29T00:00:00')).toBe('open');
    expect(await statusAt('30T20:59:59')).toBe('open');
    expect(await statusAt('30T21:00:00')).toBe('closed');
    expect(hist[0]!.floor_strike).toBe('98000'); // numeric kept as exact text
  });

  it('treats null and missing as the same and a null-to-value change as a change', async () => {
    const { db } = catalog();
    await recordInstruments(db, 'kraken_pairs', [{ symbol: 'BTC/USD', wsname: 'XBT/USD', status: 'online' }], T('01T00:00:00'));
    expect((await recordInstruments(db, 'kraken_pairs', [{ symbol: 'BTC/USD', wsname: 'XBT/USD', status: 'online', tick_size: null }], T('02T00:00:00'))).unchanged).toBe(1);
    expect((await recordInstruments(db, 'kraken_pairs', [{ symbol: 'BTC/USD', wsname: 'XBT/USD', status: 'online', tick_size: '0.1' }], T('03T00:00:00'))).changed).toBe(1);
  });

  it('compares jsonb by value, not by key order', async () => {
    const { db } = catalog();
    await recordInstruments(db, 'polymarket_conditions', [{ condition_id: '0xabc', outcomes: ['Yes', 'No'], token_ids: { a: 1, b: 2 } }], T('01T00:00:00'));
    expect((await recordInstruments(db, 'polymarket_conditions', [{ condition_id: '0xabc', outcomes: ['Yes', 'No'], token_ids: { b: 2, a: 1 } }], T('02T00:00:00'))).unchanged).toBe(1);
    expect((await recordInstruments(db, 'polymarket_conditions', [{ condition_id: '0xabc', outcomes: ['No', 'Yes'], token_ids: { b: 2, a: 1 } }], T('03T00:00:00'))).changed).toBe(1);
  });

  it('refuses a version older than the open one and leaves the rows untouched', async () => {
    const { db } = catalog();
    await recordInstruments(db, 'kalshi_series', [{ ticker: 'KXBTCD', title: 'Bitcoin daily' }], T('10T00:00:00'));
    await expect(recordInstruments(db, 'kalshi_series', [{ ticker: 'KXBTCD', title: 'Bitcoin' }], T('09T00:00:00'))).rejects.toBeInstanceOf(OutOfOrderVersionError);
    const hist = await instrumentHistory(db, 'kalshi_series', 'KXBTCD');
    expect(hist).toHaveLength(1);
    expect(hist[0]!.title).toBe('Bitcoin daily');
  });

  it('rolls back a whole batch when one row fails', async () => {
    const { db } = catalog();
    await recordInstruments(db, 'kalshi_events', [{ event_ticker: 'E1', title: 'one' }], T('10T00:00:00'));
    await expect(recordInstruments(db, 'kalshi_events', [{ event_ticker: 'E2', title: 'two' }, { event_ticker: 'E1', title: 'older' }], T('09T00:00:00'))).rejects.toThrow(/precedes/);
    expect(await instrumentsAsOf(db, 'kalshi_events', T('30T00:00:00'))).toHaveLength(1);
  });

  it('delists an instrument from an instant on', async () => {
    const { db } = catalog();
    await recordInstruments(db, 'polymarket_tokens', [{ token_id: '123', condition_id: '0xabc', outcome: 'Yes', outcome_index: 0 }], T('01T00:00:00'));
    expect(await delistInstrument(db, 'polymarket_tokens', '123', T('05T00:00:00'))).toBe(true);
    expect(await instrumentsAsOf(db, 'polymarket_tokens', T('04T23:59:59'))).toHaveLength(1);
    expect(await instrumentsAsOf(db, 'polymarket_tokens', T('05T00:00:00'))).toHaveLength(0);
  });

  it('refuses a version that would overlap a closed one (after a delist)', async () => {
    const { db } = catalog();
    await recordInstruments(db, 'kraken_pairs', [{ symbol: 'SOL/USD', status: 'online' }], T('01T00:00:00'));
    await delistInstrument(db, 'kraken_pairs', 'SOL/USD', T('10T00:00:00'));
    await expect(recordInstruments(db, 'kraken_pairs', [{ symbol: 'SOL/USD', status: 'online' }], T('05T00:00:00'))).rejects.toThrow(/would overlap/);
    expect(await instrumentsAsOf(db, 'kraken_pairs', T('07T00:00:00'), 'SOL/USD')).toHaveLength(1);
    // Relisting after the close is a new version.
    expect((await recordInstruments(db, 'kraken_pairs', [{ symbol: 'SOL/USD', status: 'online' }], T('12T00:00:00'))).inserted).toBe(1);
    expect(await instrumentHistory(db, 'kraken_pairs', 'SOL/USD')).toHaveLength(2);
  });

  it('allows exactly one open row per key (the database enforces it)', async () => {
    const { db } = catalog();
    await recordInstruments(db, 'kraken_pairs', [{ symbol: 'ETH/USD' }], T('01T00:00:00'));
    await expect(sql`INSERT INTO kraken_pairs (symbol, valid_from) VALUES ('ETH/USD', now())`.execute(db)).rejects.toThrow();
  });

  it('tracks exactly the columns the migration created', async () => {
    const { db } = catalog();
    for (const entity of SECMASTER_ENTITIES) {
      const res = await sql<{ column_name: string }>`SELECT column_name FROM information_schema.columns WHERE table_name = ${entity}`.execute(db);
      const columns = res.rows.map((r) => r.column_name).filter((c) => !['id', 'valid_from', 'valid_to', 'recorded_at', 'run_id'].includes(c)).sort();
      const spec = SECMASTER[entity];
      expect(columns, entity).toEqual([...spec.key, ...Object.keys(spec.columns)].sort());
    }
  });
});
