import { describe, expect, test } from 'vitest';
import { ConfigError, type ConfigIssue } from '../../src/errors.js';
import {
  addFeed,
  initEnvironment,
  parseEnvironment,
  removeFeed,
  setValue,
  setValues,
  unsetValue,
} from '../../src/environment/index.js';
import { COMMENTED, MINIMAL } from './fixtures.js';

const FILE = 'homelab.yaml';

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

describe('initEnvironment', () => {
  test('writes a valid, commented, embedded environment', () => {
    const text = initEnvironment({ name: 'homelab' });
    const env = parseEnvironment(text, FILE);
    expect(env.name).toBe('homelab');
    expect(env.middleware).toEqual({ journal: 'local', transport: 'memory', cache: 'memory', storage: 'local', scheduler: 'local' });
    expect(env.servers).toEqual({});
    expect(env.day).toMatchObject({ timezone: 'UTC', start: '00:00', end: '24:00', calendar: 'every-day' });
    expect(env.feeds.map((f) => f.feed)).toEqual(['kraken']);
    expect(text).toContain('# ssmd environment homelab');
    expect(text).toMatch(/journal: local # or jetstream/);
  });

  test('non-embedded uses the production middleware with its servers, and takes the day options', () => {
    const text = initEnvironment({ name: 'prod', embedded: false, timezone: 'America/New_York', start: '08:00', end: '20:00', calendar: 'weekdays' });
    const env = parseEnvironment(text, FILE);
    expect(env.middleware).toEqual({ journal: 'jetstream', transport: 'nats', cache: 'redis', storage: 's3', scheduler: 'temporal' });
    expect(Object.keys(env.servers).sort()).toEqual(['nats', 'redis', 'temporal']);
    expect(env.storage.s3).toMatchObject({ bucket: 'ssmd-archive', prefix: 'prod/' });
    expect(env.day).toMatchObject({ timezone: 'America/New_York', start: '08:00', end: '20:00', calendar: 'weekdays' });
  });

  test('the written file is stable under an edit that changes nothing else', () => {
    const text = initEnvironment({ name: 'homelab' });
    const edited = setValue(text, FILE, 'profile.memory_mb', '1024');
    expect(edited).toBe(text.replace('memory_mb: 512', 'memory_mb: 1024'));
  });

  test('invalid options are refused with the path they land on', () => {
    const issues = issuesOf(() => initEnvironment({ name: 'Home Lab', timezone: 'Mars/Olympus' }));
    expect(issues.map((i) => [i.path, i.got])).toEqual([
      ['name', '"Home Lab"'],
      ['day.timezone', '"Mars/Olympus"'],
    ]);
    expect(issues[0]).not.toHaveProperty('line');
  });
});

describe('setValue', () => {
  test('stores YAML values: numbers, strings, lists', () => {
    let text = setValue(MINIMAL, FILE, 'profile.memory_mb', '1024');
    text = setValue(text, FILE, 'feeds.kraken.channels', '[ticker, trade, book]');
    text = setValue(text, FILE, 'description', 'homelab capture');
    const env = parseEnvironment(text, FILE);
    expect(env.profile.memory_mb).toBe(1024);
    expect(env.feeds[0]?.channels).toEqual(['ticker', 'trade', 'book']);
    expect(env.description).toBe('homelab capture');
    expect(text).toContain('channels: [ticker, trade, book]');
  });

  test('keeps comments and the quoting of the value it replaces', () => {
    const text = setValue(COMMENTED, FILE, 'day.start', '09:30');
    expect(text).toContain('# my environment: do not lose this comment');
    expect(text).toContain('  start: "09:30" # the open');
    expect(text).toContain('  # the crypto feed');
    expect(text).toContain('memory_mb: 512 # fits the small box');
    expect(text.split('\n')).toHaveLength(COMMENTED.split('\n').length);
  });

  test('addresses a feed by its name, and the name default (the venue)', () => {
    const text = setValue(COMMENTED, FILE, 'feeds.kalshi.shards.max_per_connection', '100');
    const env = parseEnvironment(text, FILE);
    expect(env.feeds.find((f) => f.name === 'kalshi')?.shards.max_per_connection).toBe(100);
    expect(env.feeds.find((f) => f.name === 'kraken')?.shards.max_per_connection).toBe(100); // kraken default, untouched
    const byIndex = setValue(COMMENTED, FILE, 'feeds[1].shards.max_per_connection', '100');
    expect(byIndex).toBe(text);
  });

  test('an invalid value throws ConfigError naming the path, and the caller text is unchanged', () => {
    const before = COMMENTED;
    const copy = `${COMMENTED}`;
    const issues = issuesOf(() => setValue(before, FILE, 'profile.memory_mb', 'lots'));
    expect(issues).toEqual([{ file: FILE, path: 'profile.memory_mb', expected: 'an integer from 64 to 65536', got: '"lots"' }]);
    expect(before).toBe(copy);
  });

  test('an edit that breaks another part of the file is refused', () => {
    const issues = issuesOf(() => setValue(MINIMAL, FILE, 'middleware.journal', 'jetstream'));
    expect(issues).toEqual([
      { file: FILE, path: 'servers.nats', expected: 'a NATS server { url: nats://host:4222 }, because middleware.journal is jetstream', got: 'nothing' },
    ]);
    const withServer = setValues(MINIMAL, FILE, [
      ['servers.nats.url', 'nats://127.0.0.1:4222'],
      ['middleware.journal', 'jetstream'],
    ]);
    expect(parseEnvironment(withServer, FILE).middleware.journal).toBe('jetstream');
  });

  test('setValues applies several changes at once (an overnight day)', () => {
    const text = setValues(MINIMAL, FILE, [
      ['day.start', '"20:00"'],
      ['day.end', '"06:00"'],
      ['day.overnight', 'true'],
    ]);
    expect(parseEnvironment(text, FILE).day).toMatchObject({ start: '20:00', end: '06:00', overnight: true });
    expect(() => setValue(MINIMAL, FILE, 'day.start', '21:00')).toThrow(/day\.end: expected HH:MM after day\.start \(21:00\)/);
  });

  test('unknown feed names, bad paths and bad YAML values are errors', () => {
    expect(issuesOf(() => setValue(COMMENTED, FILE, 'feeds.binance.channels', '[trade]'))).toEqual([
      { file: FILE, path: 'feeds.binance', expected: 'the name of an entry of feeds (names: kraken, kalshi)', got: '"binance"' },
    ]);
    expect(issuesOf(() => setValue(MINIMAL, FILE, 'name.first', 'x'))[0]).toMatchObject({ path: 'name.first' });
    expect(issuesOf(() => setValue(MINIMAL, FILE, 'profile.memory_mb', '[1, 2'))[0]).toMatchObject({
      path: 'profile.memory_mb',
      expected: 'a YAML value, e.g. 1024, "08:00" or [a, b]',
    });
    expect(issuesOf(() => setValue(MINIMAL, FILE, 'feeds[0].channels[5]', 'trade'))[0]).toMatchObject({ expected: 'an index below 1' });
    expect(issuesOf(() => setValue(MINIMAL, FILE, 'profile.colour', 'blue'))[0]).toMatchObject({ path: 'profile.colour', got: 'unknown key "colour"' });
  });

  test('a file with an existing error can still be repaired by edits', () => {
    const broken = MINIMAL.replace('timezone: UTC', 'timezone: Mars/Olympus').replace('end: "20:00"', 'end: "07:00"');
    const half = setValue(broken, FILE, 'day.timezone', 'Europe/Paris'); // day.end is still wrong, but not new
    const fixed = setValue(half, FILE, 'day.end', '"18:00"');
    expect(parseEnvironment(fixed, FILE).day).toMatchObject({ timezone: 'Europe/Paris', end: '18:00' });
  });
});

describe('unsetValue', () => {
  test('removes a key so its default applies', () => {
    const text = unsetValue(COMMENTED, FILE, 'profile.memory_mb');
    expect(parseEnvironment(text, FILE).profile.memory_mb).toBe(512);
    expect(text).not.toContain('memory_mb');
  });

  test('refuses to remove a required key or a key that is not set', () => {
    expect(issuesOf(() => unsetValue(MINIMAL, FILE, 'name'))).toEqual([{ file: FILE, path: 'name', expected: 'an environment name', got: 'nothing' }]);
    expect(issuesOf(() => unsetValue(MINIMAL, FILE, 'profile.memroy_mb'))).toEqual([
      { file: FILE, path: 'profile.memroy_mb', expected: 'a key that is set', got: 'nothing' },
    ]);
  });
});

describe('addFeed / removeFeed', () => {
  test('adds a feed in flow style and keeps the rest', () => {
    const text = addFeed(COMMENTED, FILE, { feed: 'polymarket', select: { tags: ['crypto'] }, channels: ['book', 'price_change'] });
    const env = parseEnvironment(text, FILE);
    expect(env.feeds.map((f) => f.name)).toEqual(['kraken', 'kalshi', 'polymarket']);
    expect(text).toContain('channels: [book, price_change]');
    expect(text).toContain('# the crypto feed');
  });

  test('refuses a name already used, listing the names', () => {
    const issues = issuesOf(() => addFeed(COMMENTED, FILE, { feed: 'kalshi', select: { series: ['KXBTC15M'] }, channels: ['trade'], credentials: 'key:kalshi-prod' }));
    expect(issues).toEqual([{ file: FILE, path: 'feeds[2].name', expected: 'a feed name not already used (names: kraken, kalshi)', got: '"kalshi"' }]);
    const named = addFeed(COMMENTED, FILE, { feed: 'kalshi', name: 'kalshi-15m', select: { series: ['KXBTC15M'] }, channels: ['trade'], credentials: 'key:kalshi-prod' });
    expect(parseEnvironment(named, FILE).feeds.map((f) => f.name)).toEqual(['kraken', 'kalshi', 'kalshi-15m']);
  });

  test('an invalid feed is refused with the path inside the new entry', () => {
    const issues = issuesOf(() => addFeed(MINIMAL, FILE, { feed: 'kalshi', channels: ['book'], credentials: 'hunter2' }));
    expect(issues.map((i) => [i.path, i.got])).toEqual([
      ['feeds[1].channels[0]', '"book"'],
      ['feeds[1].credentials', 'an inline value (7 characters, not shown)'],
    ]);
  });

  test('removes a feed by name', () => {
    const text = removeFeed(COMMENTED, FILE, 'kalshi');
    expect(parseEnvironment(text, FILE).feeds.map((f) => f.name)).toEqual(['kraken']);
    expect(text).not.toContain('kalshi');
    expect(text).toContain('# my environment: do not lose this comment');
  });

  test('refuses to remove a missing feed or the last one', () => {
    expect(issuesOf(() => removeFeed(COMMENTED, FILE, 'binance'))[0]).toMatchObject({ path: 'feeds.binance', got: '"binance"' });
    expect(issuesOf(() => removeFeed(MINIMAL, FILE, 'kraken'))).toEqual([
      {
        file: FILE,
        path: 'feeds[0]',
        expected: 'another feed to remain (an environment needs at least one; add one first)',
        got: 'the only feed "kraken"',
      },
    ]);
  });

  test('refuses to edit text that is not valid YAML, with positions', () => {
    const issues = issuesOf(() => setValue('name: [x\n', FILE, 'name', 'y'));
    expect(issues[0]).toMatchObject({ file: FILE, line: 2, expected: 'valid YAML' });
  });
});
