import { describe, expect, test } from 'vitest';
import { diffEnvironments, parseEnvironment, setValue, addFeed } from '../../src/environment/index.js';
import { COMMENTED, FULL } from './fixtures.js';

const env = (text: string) => parseEnvironment(text, 'env.yaml');

describe('diffEnvironments', () => {
  test('the same environment has no changes', () => {
    expect(diffEnvironments(env(FULL), env(FULL))).toEqual([]);
  });

  test('reordering channels, pairs or series is no change', () => {
    const reordered = FULL.replace('channels: [ticker, trade, book]', 'channels: [book, ticker, trade]')
      .replace('pairs: [BTC/USD, ETH/USD]', 'pairs: [ETH/USD, BTC/USD]')
      .replace('weekdays: [mon, tue, wed, thu, fri]', 'weekdays: [fri, thu, wed, tue, mon]');
    expect(reordered).not.toBe(FULL);
    expect(diffEnvironments(env(FULL), env(reordered))).toEqual([]);
  });

  test('reordering feeds is no change (matched by name)', () => {
    const a = env(COMMENTED);
    const b = { ...a, feeds: [...a.feeds].reverse() };
    expect(diffEnvironments(a, b)).toEqual([]);
  });

  test('adding a feed is one add op with the whole feed', () => {
    const added = addFeed(COMMENTED, 'env.yaml', { feed: 'polymarket', select: { tags: ['crypto'] }, channels: ['book'] });
    const ops = diffEnvironments(env(COMMENTED), env(added));
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({ op: 'add', path: 'feeds.polymarket', after: { feed: 'polymarket', channels: ['book'] } });
  });

  test('changing day.start is one change op', () => {
    const ops = diffEnvironments(env(FULL), env(setValue(FULL, 'env.yaml', 'day.start', '"09:30"')));
    expect(ops).toEqual([{ op: 'change', path: 'day.start', before: '08:00', after: '09:30' }]);
  });

  test('a channel added and a feed removed, with named paths', () => {
    const b = FULL.replace('channels: [ticker, trade, market_lifecycle_v2]', 'channels: [ticker, trade, market_lifecycle_v2, orderbook_delta]')
      .replace(/ {2}- feed: polymarket\n(?: {4}.*\n)+/, '');
    expect(diffEnvironments(env(FULL), env(b))).toEqual([
      { op: 'add', path: 'feeds.kalshi.channels', after: 'orderbook_delta' },
      { op: 'remove', path: 'feeds.poly-crypto', before: expect.objectContaining({ feed: 'polymarket' }) },
    ]);
  });

  test('from nothing, every top-level section is added, each feed and calendar on its own', () => {
    const ops = diffEnvironments(null, env(FULL));
    expect(ops.every((o) => o.op === 'add')).toBe(true);
    expect(ops.map((o) => o.path)).toEqual([
      'name',
      'description',
      'day',
      'calendars.us-holidays',
      'feeds.kalshi',
      'feeds.kraken',
      'feeds.poly-crypto',
      'middleware',
      'servers',
      'storage',
      'profile',
    ]);
    expect(diffEnvironments(null, env(FULL))).toEqual(ops); // deterministic
  });

  test('a removed optional section is a remove op', () => {
    const b = setValue(FULL, 'env.yaml', 'storage.s3.region', 'eu-west-1');
    expect(diffEnvironments(env(FULL), env(b))).toEqual([{ op: 'change', path: 'storage.s3.region', before: 'us-east-1', after: 'eu-west-1' }]);
    const a = env(FULL);
    const noDescription = { ...a, description: undefined };
    expect(diffEnvironments(a, noDescription)).toEqual([{ op: 'remove', path: 'description', before: a.description }]);
  });
});
