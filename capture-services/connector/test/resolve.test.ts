import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../../core/src/environment/index.js';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import { recordInstruments } from '../../../catalog/src/secmaster/secmaster.repository.js';
import { resolveInstruments } from '../src/resolve.js';

const T0 = new Date('2026-11-29T00:00:00Z');
const T1 = new Date('2026-11-29T12:00:00Z');

describe('resolveInstruments: environment selection x secmaster as of an instant', () => {
  let catalog: Catalog;
  beforeAll(async () => {
    catalog = await openCatalog('pglite:memory');
    const { db } = catalog;
    await recordInstruments(db, 'kalshi_markets', [
      { ticker: 'KXBTCD-26NOV30-T98000', series_ticker: 'KXBTCD', event_ticker: 'KXBTCD-26NOV30', status: 'active' },
      { ticker: 'KXBTCD-26NOV30-T99000', series_ticker: 'KXBTCD', event_ticker: 'KXBTCD-26NOV30', status: 'initialized' },
      { ticker: 'KXETHD-26NOV30-T3500', series_ticker: 'KXETHD', event_ticker: 'KXETHD-26NOV30', status: 'open' },
    ], T0);
    // The T99000 market opens at T1: it is selected as of T1, not as of T0.
    await recordInstruments(db, 'kalshi_markets', [{ ticker: 'KXBTCD-26NOV30-T99000', series_ticker: 'KXBTCD', event_ticker: 'KXBTCD-26NOV30', status: 'active' }], T1);
    await recordInstruments(db, 'polymarket_events', [
      { event_id: 'e1', slug: 'btc-up', tags: [{ slug: 'crypto' }] }, { event_id: 'e2', slug: 'election', tags: [{ slug: 'politics' }] },
    ], T0);
    await recordInstruments(db, 'polymarket_conditions', [
      { condition_id: `0x${'a'.repeat(64)}`, event_id: 'e1', status: 'active' }, { condition_id: `0x${'b'.repeat(64)}`, event_id: 'e2', status: 'active' },
      { condition_id: `0x${'c'.repeat(64)}`, event_id: 'e1', status: 'closed' },
    ], T0);
    await recordInstruments(db, 'polymarket_tokens', [
      { token_id: '11', condition_id: `0x${'a'.repeat(64)}`, outcome: 'Yes' }, { token_id: '12', condition_id: `0x${'a'.repeat(64)}`, outcome: 'No' },
      { token_id: '21', condition_id: `0x${'b'.repeat(64)}` }, { token_id: '31', condition_id: `0x${'c'.repeat(64)}` },
    ], T0);
    await recordInstruments(db, 'kraken_pairs', [{ symbol: 'BTC/USD' }, { symbol: 'ETH/USD' }], T0);
  });
  afterAll(() => catalog.close());

  const env = (feeds: string) => parseEnvironment(`name: lab\nday: {timezone: UTC, start: "00:00", end: "24:00"}\nfeeds:\n${feeds}\n`, 'lab.yaml');

  it('selects Kalshi markets by series and status, as of the instant', async () => {
    const e = env('  - {feed: kalshi, select: {series: [KXBTCD], status: open}, channels: [ticker], credentials: "key:k"}');
    expect((await resolveInstruments(catalog.db, e.feeds[0]!, T0)).instruments).toEqual(['KXBTCD-26NOV30-T98000']);
    expect((await resolveInstruments(catalog.db, e.feeds[0]!, T1)).instruments).toEqual(['KXBTCD-26NOV30-T98000', 'KXBTCD-26NOV30-T99000']);
  });

  it('selects Polymarket tokens of active conditions of tagged events, plus explicit tokens', async () => {
    const e = env('  - {feed: polymarket, select: {tags: [crypto], token_ids: ["21", "99"]}, channels: [book]}');
    const r = await resolveInstruments(catalog.db, e.feeds[0]!, T1);
    expect(r.instruments.sort()).toEqual(['11', '12', '21']);
    expect(r.unknown).toEqual(['99']);
  });

  it('takes Kraken pairs as selected and reports those the secmaster does not know', async () => {
    const e = env('  - {feed: kraken, select: {pairs: [BTC/USD, SOL/USD]}, channels: [trade]}');
    expect(await resolveInstruments(catalog.db, e.feeds[0]!, T1)).toEqual({ instruments: ['BTC/USD', 'SOL/USD'], unknown: ['SOL/USD'] });
  });
});
