import { expect, it } from 'vitest';
import { describeOnBothCatalogs } from './context.js';
import { addFeedVersion, feedVersionAsOf, feedVersions, listFeeds, registerFeed } from '../src/feeds/feed.repository.js';
import { seedBuiltinFeeds } from '../src/feeds/builtin.js';
import { OutOfOrderVersionError } from '../src/timeseries/timeseries.js';

const v = (protocol: string, from: string) => ({
  protocol_version: protocol, effective_from: new Date(from), endpoints: { ws: `wss://example/${protocol}` }, channels: ['ticker', 'trade'],
});

describeOnBothCatalogs('feeds and feed versions', (catalog) => {
  it('answers which protocol version was in force at an instant across several versions', async () => {
    const { db } = catalog();
    await registerFeed(db, { name: 'kalshi', venue: 'kalshi' });
    await addFeedVersion(db, 'kalshi', v('v1', '2025-01-01T00:00:00Z'));
    await addFeedVersion(db, 'kalshi', v('v2', '2026-03-05T00:00:00Z'));
    await addFeedVersion(db, 'kalshi', v('v3', '2026-11-01T00:00:00Z'));
    const at = async (t: string) => (await feedVersionAsOf(db, 'kalshi', new Date(t)))?.protocol_version;
    expect(await at('2024-12-31T23:59:59Z')).toBeUndefined();
    expect(await at('2025-06-01T00:00:00Z')).toBe('v1');
    expect(await at('2026-03-04T23:59:59.999Z')).toBe('v1');
    expect(await at('2026-03-05T00:00:00Z')).toBe('v2');
    expect(await at('2026-11-30T00:00:00Z')).toBe('v3');
    const all = await feedVersions(db, 'kalshi');
    expect(all.map((x) => [x.version, x.effective_to?.toISOString() ?? null])).toEqual([
      [1, '2026-03-05T00:00:00.000Z'], [2, '2026-11-01T00:00:00.000Z'], [3, null],
    ]);
  });

  it('refuses a version that does not follow the open one', async () => {
    const { db } = catalog();
    await registerFeed(db, { name: 'kraken', venue: 'kraken' });
    await addFeedVersion(db, 'kraken', v('v2', '2026-01-01T00:00:00Z'));
    await expect(addFeedVersion(db, 'kraken', v('v1', '2025-01-01T00:00:00Z'))).rejects.toBeInstanceOf(OutOfOrderVersionError);
    expect(await feedVersions(db, 'kraken')).toHaveLength(1);
  });

  it('seeds the built-in feeds idempotently', async () => {
    const { db } = catalog();
    const first = await seedBuiltinFeeds(db);
    expect(first).toBeGreaterThanOrEqual(4);
    expect(await seedBuiltinFeeds(db)).toBe(0);
    const feeds = await listFeeds(db, new Date('2026-11-30T00:00:00Z'));
    expect(feeds.map((f) => `${f.name}:${f.current?.protocol_version}`)).toEqual(['kalshi:ws-v2-dollars', 'kraken:spot-ws-v2', 'polymarket:clob-ws-market-v1']);
    expect((await feedVersionAsOf(db, 'kalshi', new Date('2026-02-01T00:00:00Z')))?.protocol_version).toBe('ws-v2-cents');
  });
});
