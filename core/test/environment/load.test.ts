import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, NotFoundError, type ConfigIssue } from '../../src/errors.js';
import { loadEnvironmentFile, parseEnvironment, validateEnvironment } from '../../src/environment/index.js';
import { FULL, MINIMAL } from './fixtures.js';

const FILE = 'envs/homelab.yaml';

/** The issues parseEnvironment throws for `text` (fails the test if it does not throw a ConfigError). */
function issuesOf(text: string): ConfigIssue[] {
  try {
    parseEnvironment(text, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).issues];
  }
  throw new Error('expected a ConfigError');
}

/** The only issue for `text`. */
function onlyIssue(text: string): ConfigIssue {
  const issues = issuesOf(text);
  expect(issues).toHaveLength(1);
  return issues[0]!;
}

function replaced(text: string, from: string, to: string): string {
  expect(text).toContain(from);
  return text.replace(from, to);
}

describe('a valid environment', () => {
  test('parses the full example with every section', () => {
    const env = parseEnvironment(FULL, FILE);
    expect(env.name).toBe('homelab');
    expect(env.day).toEqual({
      timezone: 'America/New_York',
      start: '08:00',
      end: '20:00',
      overnight: false,
      calendar: 'us-holidays',
    });
    expect(env.calendars[0]?.holidays).toEqual(['2026-12-25']);
    expect(env.feeds.map((f) => f.name)).toEqual(['kalshi', 'kraken', 'poly-crypto']);
    expect(env.servers.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default' });
    expect(env.storage.s3?.region).toBe('us-east-1');
    expect(env.profile).toEqual({ memory_mb: 1024, batch_rows: 50_000, buffer_mb: 64 });
  });

  test('applies per-venue defaults', () => {
    const [kalshi, kraken, poly] = parseEnvironment(FULL, FILE).feeds;
    expect(kalshi).toMatchObject({
      select: { series: ['KXBTCD'], events: [], markets: [], status: 'open' },
      shards: { max_per_connection: 200 },
    });
    expect(kraken).toMatchObject({ transport: 'echidna', book_depth: 25, shards: { max_per_connection: 100 } });
    expect(poly).toMatchObject({
      select: { tags: ['crypto'], slugs: [], condition_ids: [], token_ids: [], active: true },
      shards: { max_per_connection: 500 },
    });
  });

  test('a minimal file gets the embedded middleware and default storage', () => {
    const env = parseEnvironment(MINIMAL, FILE);
    expect(env.middleware).toEqual({ journal: 'local', transport: 'memory', cache: 'memory', storage: 'local', scheduler: 'local' });
    expect(env.servers).toEqual({});
    expect(env.storage).toEqual({ block: '.ssmd/data' });
    expect(env.day.calendar).toBe('every-day');
    expect(env.feeds[0]).toMatchObject({ name: 'kraken', transport: 'ws', book_depth: 10 });
  });

  test('the result is frozen (config is parsed once and never mutated)', () => {
    const env = parseEnvironment(MINIMAL, FILE);
    expect(Object.isFrozen(env.feeds[0]?.channels)).toBe(true);
    expect(() => {
      (env.day as { start: string }).start = '09:00';
    }).toThrow(TypeError);
  });

  test('an overnight day may end before it starts; 24:00 ends a day at midnight', () => {
    const overnight = replaced(MINIMAL, 'end: "20:00"', 'end: "06:00", overnight: true');
    expect(parseEnvironment(overnight, FILE).day).toMatchObject({ start: '08:00', end: '06:00', overnight: true });
    const full = replaced(MINIMAL, 'start: "08:00", end: "20:00"', 'start: "00:00", end: "24:00"');
    expect(parseEnvironment(full, FILE).day.end).toBe('24:00');
  });
});

describe('YAML errors', () => {
  test('an unclosed bracket is reported with the parser message and position', () => {
    const text = replaced(MINIMAL, 'channels: [trade]', 'channels: [trade\nprofile: {}');
    expect(onlyIssue(text)).toEqual({
      file: FILE,
      line: 7,
      col: 1,
      path: '',
      expected: 'valid YAML',
      got: 'Flow sequence in block collection must be sufficiently indented and end with a ]',
    });
  });

  test('bad indentation', () => {
    const text = replaced(MINIMAL, '    channels', '      channels');
    expect(onlyIssue(text)).toMatchObject({ line: 6, col: 1, path: '', expected: 'valid YAML', got: 'All mapping items must start at the same column' });
  });

  test('a duplicate key is an error at the second key, with its path', () => {
    const text = replaced(MINIMAL, 'start: "08:00"', 'start: "08:00", start: "09:00"');
    expect(onlyIssue(text)).toEqual({
      file: FILE,
      line: 2,
      col: 38,
      path: 'day.start',
      expected: 'each key once in a mapping',
      got: 'duplicate key "start"',
    });
  });

  test('an empty file, a comment-only file and a non-mapping root', () => {
    const expected = 'a mapping with name, day and feeds (`ssmd env init` writes one)';
    expect(onlyIssue('')).toEqual({ file: FILE, line: 1, col: 1, path: '', expected, got: 'an empty file' });
    expect(onlyIssue('# nothing yet\n')).toMatchObject({ got: 'an empty file' });
    expect(onlyIssue('- kalshi\n- kraken\n')).toMatchObject({ line: 1, col: 1, expected, got: '["kalshi","kraken"]' });
  });

  test('several documents in one file', () => {
    expect(onlyIssue(`${MINIMAL}---\n${MINIMAL}`)).toMatchObject({ line: 7, expected: 'valid YAML' });
  });
});

describe('schema errors: file, line:col, path, expected, got', () => {
  test('unknown top-level key points at the key', () => {
    expect(onlyIssue(`${MINIMAL}colour: blue\n`)).toEqual({
      file: FILE,
      line: 7,
      col: 1,
      path: 'colour',
      expected: 'a key of an environment (name, description, day, calendars, feeds, middleware, servers, storage, profile)',
      got: 'unknown key "colour"',
    });
  });

  test('unknown key nested in a feed names the venue and its allowed keys', () => {
    const text = replaced(MINIMAL, '    channels: [trade]', '    channels: [trade]\n    depth: 10');
    expect(onlyIssue(text)).toEqual({
      file: FILE,
      line: 7,
      col: 5,
      path: 'feeds[0].depth',
      expected: 'a key of a kraken feed (feed, name, select, channels, shards, credentials, transport, book_depth)',
      got: 'unknown key "depth"',
    });
  });

  test('wrong type: profile.memory_mb: lots', () => {
    expect(onlyIssue(`${MINIMAL}profile: {memory_mb: lots}\n`)).toEqual({
      file: FILE,
      line: 7,
      col: 22,
      path: 'profile.memory_mb',
      expected: 'an integer from 64 to 65536',
      got: '"lots"',
    });
  });

  test('an inline secret in credentials is refused and never echoed', () => {
    const text = replaced(FULL, 'credentials: key:kalshi-prod', 'credentials: sk-live-abcdef0123456789');
    const issue = onlyIssue(text);
    expect(issue).toEqual({
      file: FILE,
      line: 17,
      col: 18,
      path: 'feeds[0].credentials',
      expected: 'a key reference key:<name> (never an inline secret; store it with `ssmd keys add`)',
      got: 'an inline value (24 characters, not shown)',
    });
    expect(() => parseEnvironment(text, FILE)).toThrow(/feeds\[0\]\.credentials/);
    expect(() => parseEnvironment(text, FILE)).not.toThrow(/abcdef/);
    const numeric = replaced(FULL, 'credentials: key:kalshi-prod', 'credentials: 123456');
    expect(onlyIssue(numeric)).toMatchObject({ path: 'feeds[0].credentials', got: 'an inline value (not shown)' });
  });

  test('a password inside a server URL is refused and masked', () => {
    const text = replaced(FULL, 'nats://127.0.0.1:4222', 'nats://ssmd:hunter2@127.0.0.1:4222');
    expect(onlyIssue(text)).toMatchObject({
      line: 29,
      path: 'servers.nats.url',
      expected: 'a nats:// or tls:// URL without user:password',
      got: '"nats://***@127.0.0.1:4222"',
    });
  });

  test('a duplicate feed is reported at the second one', () => {
    const text = `${MINIMAL}  - feed: kraken\n    select: {pairs: [ETH/USD]}\n    channels: [ticker]\n`;
    expect(onlyIssue(text)).toEqual({
      file: FILE,
      line: 7,
      col: 11,
      path: 'feeds[1].feed',
      expected: 'a feed name not already used (names: kraken); add name: to tell feeds apart',
      got: '"kraken"',
    });
    // with explicit names, the error points at the second `name:`
    const named = replaced(FULL, 'name: poly-crypto', 'name: kraken');
    expect(onlyIssue(named)).toMatchObject({ line: 24, col: 11, path: 'feeds[2].name', got: '"kraken"' });
  });

  test('an invalid time zone', () => {
    const text = replaced(FULL, 'America/New_York', 'Mars/Olympus');
    expect(onlyIssue(text)).toEqual({
      file: FILE,
      line: 5,
      col: 13,
      path: 'day.timezone',
      expected: 'an IANA time zone such as America/New_York',
      got: '"Mars/Olympus"',
    });
  });

  test('end before start, and end equal to start even overnight', () => {
    const early = replaced(FULL, 'end: "20:00"', 'end: "07:30"');
    expect(onlyIssue(early)).toEqual({
      file: FILE,
      line: 7,
      col: 8,
      path: 'day.end',
      expected: 'HH:MM after day.start (08:00), or day.overnight: true',
      got: '"07:30"',
    });
    const equal = replaced(MINIMAL, 'end: "20:00"', 'end: "08:00", overnight: true');
    expect(onlyIssue(equal)).toMatchObject({ path: 'day.end', expected: 'HH:MM different from day.start (08:00)' });
    expect(onlyIssue(replaced(MINIMAL, '"08:00"', '"8am"'))).toMatchObject({ path: 'day.start', expected: 'HH:MM (24h), e.g. "08:00"', got: '"8am"' });
  });

  test('a channel of another venue', () => {
    const text = replaced(FULL, 'channels: [ticker, trade, market_lifecycle_v2]', 'channels: [ticker, book]');
    expect(onlyIssue(text)).toEqual({
      file: FILE,
      line: 16,
      col: 24,
      path: 'feeds[0].channels[1]',
      expected: 'one of ticker|trade|orderbook_delta|market_lifecycle_v2',
      got: '"book"',
    });
  });

  test('a kraken-only field on a kalshi feed', () => {
    const text = replaced(FULL, '    credentials: key:kalshi-prod', '    credentials: key:kalshi-prod\n    book_depth: 10');
    expect(onlyIssue(text)).toMatchObject({
      line: 18,
      col: 5,
      path: 'feeds[0].book_depth',
      expected: 'a key of a kalshi feed (feed, name, select, channels, shards, credentials)',
      got: 'unknown key "book_depth"',
    });
  });

  test('a kalshi feed requires credentials; an unknown venue lists the venues', () => {
    const noCreds = replaced(FULL, '    credentials: key:kalshi-prod\n', '');
    expect(onlyIssue(noCreds)).toMatchObject({ line: 14, col: 5, path: 'feeds[0].credentials', got: 'nothing' });
    const venue = replaced(MINIMAL, 'feed: kraken', 'feed: binance');
    expect(onlyIssue(venue)).toMatchObject({ line: 4, col: 11, path: 'feeds[0].feed', expected: 'one of kalshi|polymarket|kraken', got: '"binance"' });
  });

  test('journal jetstream without servers.nats points at the middleware choice', () => {
    const text = `${MINIMAL}middleware:\n  journal: jetstream\n`;
    expect(onlyIssue(text)).toEqual({
      file: FILE,
      line: 8,
      col: 12,
      path: 'servers.nats',
      expected: 'a NATS server { url: nats://host:4222 }, because middleware.journal is jetstream',
      got: 'nothing',
    });
    const noS3 = replaced(FULL, '  s3: {bucket: ssmd-archive, prefix: homelab/, endpoint: http://127.0.0.1:8333, credentials: key:s3-offsite}\n', '');
    expect(onlyIssue(noS3)).toMatchObject({ path: 'storage.s3', expected: 'an S3 archive { bucket: ... }, because middleware.storage is s3' });
  });

  test('a calendar that is not declared, and bad calendar entries', () => {
    const undeclared = replaced(FULL, 'calendar: us-holidays', 'calendar: uk-holidays');
    expect(onlyIssue(undeclared)).toMatchObject({
      line: 8,
      path: 'day.calendar',
      expected: 'one of every-day|weekdays|us-holidays (built-in or declared under calendars)',
      got: '"uk-holidays"',
    });
    const bad = replaced(FULL, 'holidays: ["2026-12-25"]', 'holidays: ["2026-12-25", "2026-02-30", "2026-12-25"]');
    expect(issuesOf(bad).map((i) => [i.path, i.expected])).toEqual([
      ['calendars[0].holidays[1]', 'a real calendar date YYYY-MM-DD'],
      ['calendars[0].holidays[2]', 'a value not already listed (it is at [0])'],
    ]);
  });

  test('a missing required key is located at its map and got is "nothing"', () => {
    const text = replaced(MINIMAL, 'name: homelab\n', '');
    expect(onlyIssue(text)).toEqual({ file: FILE, line: 1, col: 1, path: 'name', expected: 'an environment name', got: 'nothing' });
  });

  test('long values are truncated to 60 characters', () => {
    const issue = onlyIssue(`${MINIMAL}description: [${'x, '.repeat(40)}y]\n`);
    expect(issue.got).toHaveLength(60);
    expect(issue.got.endsWith('…')).toBe(true);
  });

  test('every issue is reported, sorted by line, in the ConfigError message', () => {
    const text = [
      'name: homelab',
      'day: {timezone: Mars/Olympus, start: "08:00", end: "20:00"}',
      'feeds:',
      '  - feed: kalshi',
      '    channels: [ticker, book]',
      '    credentials: key:kalshi-prod',
      '    transport: ws',
      'profile: {memory_mb: lots}',
      'foo: 1',
      '',
    ].join('\n');
    const issues = issuesOf(text);
    expect(issues.map((i) => `${i.line}:${i.col} ${i.path}`)).toEqual([
      '2:17 day.timezone',
      '5:24 feeds[0].channels[1]',
      '7:5 feeds[0].transport',
      '8:22 profile.memory_mb',
      '9:1 foo',
    ]);
    expect(() => parseEnvironment(text, FILE)).toThrow(
      `${FILE}:2:17 day.timezone: expected an IANA time zone such as America/New_York, got "Mars/Olympus"`,
    );
  });

  test('validateEnvironment returns the issues instead of throwing', () => {
    expect(validateEnvironment(MINIMAL, FILE)).toMatchObject({ issues: [], env: { name: 'homelab' } });
    const bad = validateEnvironment(`${MINIMAL}foo: 1\n`, FILE);
    expect(bad.env).toBeUndefined();
    expect(bad.issues).toHaveLength(1);
  });
});

describe('loadEnvironmentFile', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssmd-env-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('reads, validates and checksums the file', async () => {
    const path = join(dir, 'homelab.yaml');
    await writeFile(path, FULL);
    const loaded = await loadEnvironmentFile(path);
    expect(loaded.env.name).toBe('homelab');
    expect(loaded.text).toBe(FULL);
    expect(loaded.file).toBe(path);
    expect(loaded.sha256).toBe(createHash('sha256').update(FULL).digest('hex'));
  });

  test('names the file in issues, and a missing file is NotFoundError', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, `${MINIMAL}foo: 1\n`);
    await expect(loadEnvironmentFile(path)).rejects.toThrow(`${path}:7:1 foo:`);
    await expect(loadEnvironmentFile(join(dir, 'absent.yaml'))).rejects.toBeInstanceOf(NotFoundError);
  });
});
