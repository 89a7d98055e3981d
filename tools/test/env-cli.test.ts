import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openCatalog } from '../../catalog/src/db/connect.js';
import { CliSandbox } from './cli-harness.js';

/** Row count of every catalog table: proof that a refused command changed nothing. */
async function catalogFingerprint(url: string): Promise<Record<string, number>> {
  const catalog = await openCatalog(url);
  try {
    const tables = await sql<{ tablename: string }>`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`.execute(catalog.db);
    const out: Record<string, number> = {};
    for (const { tablename } of tables.rows) {
      const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(tablename)}`.execute(catalog.db);
      out[tablename] = r.rows[0]!.n;
    }
    return out;
  } finally {
    await catalog.close();
  }
}

const GOOD = `name: lab
day: {timezone: America/New_York, start: "08:00", end: "20:00", calendar: weekdays}
feeds:
  - feed: kraken
    select: {pairs: [BTC/USD]}
    channels: [ticker, trade]
middleware: {journal: local, transport: memory, cache: memory, storage: local, scheduler: local}
storage: {block: .ssmd/data}
`;

/** Each bad file, the exit code, and what the error must say (file:line:col path: expected ..., got ...). */
const BAD: Array<{ name: string; text: string; expect: RegExp[] }> = [
  { name: 'malformed YAML', text: 'name: lab\nday: {timezone: UTC, start: "08:00"\nfeeds: []\n', expect: [/bad\.yaml:\d+:\d+ \(root\): expected valid YAML, got/] },
  { name: 'unknown key', text: GOOD.replace('storage: {block: .ssmd/data}', 'storage: {block: .ssmd/data, bucket: x}'), expect: [/bad\.yaml:8:30 storage\.bucket: expected a key of storage \(block, s3\), got unknown key "bucket"/] },
  { name: 'wrong type', text: `${GOOD}profile: {memory_mb: lots}\n`, expect: [/bad\.yaml:9:22 profile\.memory_mb: expected .*integer.*got "lots"/] },
  { name: 'duplicate feed', text: GOOD.replace('feeds:\n', 'feeds:\n  - {feed: kraken, select: {pairs: [ETH/USD]}, channels: [trade]}\n'), expect: [/bad\.yaml:5:11 feeds\[1\]\.feed: expected a feed name not already used \(names: kraken\)/] },
  { name: 'invalid time zone', text: GOOD.replace('America/New_York', 'Mars/Olympus'), expect: [/bad\.yaml:2:17 day\.timezone: expected an IANA time zone such as America\/New_York, got "Mars\/Olympus"/] },
  { name: 'end before start', text: GOOD.replace('end: "20:00"', 'end: "07:00"'), expect: [/bad\.yaml:2:\d+ day\.end: expected HH:MM after day\.start \(08:00\).*got "07:00"/] },
  { name: 'inline secret', text: GOOD.replace('channels: [ticker, trade]', 'channels: [ticker, trade]\n    credentials: hunter2-secret'), expect: [/feeds\[0\]\.credentials: expected a key reference key:<name>/] },
];

describe('ssmd env: bad input gets a precise error and leaves the catalog untouched', () => {
  let box: CliSandbox;
  let catalogUrl: string;
  beforeAll(async () => {
    box = await CliSandbox.create();
    catalogUrl = `pglite:${join(box.dir, '.ssmd', 'catalog')}`;
    expect((await box.run(['init'])).code).toBe(0);
    await writeFile(join(box.dir, 'good.yaml'), GOOD);
    expect((await box.run(['env', 'apply', 'good.yaml'])).code).toBe(0);
  });
  afterAll(() => box.dispose());

  for (const bad of BAD) {
    it(`refuses ${bad.name}`, async () => {
      await writeFile(join(box.dir, 'bad.yaml'), bad.text);
      const before = await catalogFingerprint(catalogUrl);
      for (const cmd of ['validate', 'plan', 'apply']) {
        const r = await box.run(['env', cmd, 'bad.yaml']);
        expect(r.code, `${cmd}: ${r.stderr}`).toBe(2);
        for (const re of bad.expect) expect(r.stderr).toMatch(re);
        expect(r.stdout).toBe('');
      }
      expect(await catalogFingerprint(catalogUrl)).toEqual(before);
      if (bad.name === 'inline secret') expect((await box.run(['env', 'apply', 'bad.yaml'])).stderr).not.toContain('hunter2-secret');
    });
  }

  it('refuses a key: reference that does not exist, naming file, line and column', async () => {
    const text = GOOD.replace('feeds:\n', 'feeds:\n  - {feed: kalshi, select: {series: [KXBTCD]}, channels: [ticker], credentials: "key:kalshi-prod"}\n');
    await writeFile(join(box.dir, 'bad.yaml'), text);
    const before = await catalogFingerprint(catalogUrl);
    for (const cmd of ['validate', 'plan', 'apply']) {
      const r = await box.run(['env', cmd, 'bad.yaml']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/bad\.yaml:4:\d+ feeds\[0\]\.credentials: expected a key in the key store \(add it with `ssmd keys add kalshi-prod`\), got key:kalshi-prod \(no such active key\)/);
    }
    expect(await catalogFingerprint(catalogUrl)).toEqual(before);
    // With the key added, the same file applies.
    const pem = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    expect((await box.run(['keys', 'add', 'kalshi-prod', '--kind', 'kalshi-rsa', '--stdin', '--attr', 'key_id=abc'], pem)).code).toBe(0);
    expect((await box.run(['env', 'validate', 'bad.yaml'])).code).toBe(0);
  });

  it('reports errors as JSON with every issue under --json', async () => {
    await writeFile(join(box.dir, 'bad.yaml'), GOOD.replace('America/New_York', 'Mars/Olympus').replace('end: "20:00"', 'end: "07:00"'));
    const r = await box.json(['env', 'validate', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.body.error.code).toBe('CONFIG_INVALID');
    expect(r.body.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['day.end', 'day.timezone']);
    expect(r.body.error.issues[0]).toMatchObject({ file: expect.stringContaining('bad.yaml'), line: 2, col: expect.any(Number), expected: expect.any(String), got: expect.any(String) });
  });
});

describe('ssmd env: create, edit, plan, apply, history without hand-editing YAML', () => {
  let box: CliSandbox;
  beforeAll(async () => {
    box = await CliSandbox.create();
    expect((await box.run(['init'])).code).toBe(0);
  });
  afterAll(() => box.dispose());

  it('runs the whole lifecycle and records every revision', async () => {
    expect((await box.run(['env', 'init', 'lab', '--timezone', 'Europe/London', '--start', '07:00', '--end', '22:00'])).code).toBe(0);
    const file = join(box.dir, 'deploy/environments/lab.yaml');
    expect(await readFile(file, 'utf8')).toContain('timezone: Europe/London');

    const plan1 = await box.json(['env', 'plan', 'lab']);
    expect(plan1.body.revision).toBe(1);
    expect(plan1.body.changes.map((c: { area: string }) => c.area)).toContain('day');
    expect((await box.json(['env', 'history', 'lab'])).code).toBe(3); // plan wrote nothing

    expect((await box.json(['env', 'apply', 'lab'])).body.revision).toBe(1);
    expect((await box.run(['env', 'set', 'lab', 'day.end=23:00', 'profile.memory_mb=1024'])).code).toBe(0);
    expect((await box.run(['env', 'add-feed', 'lab', '--venue', 'polymarket', '--channels', 'book,last_trade_price', '--select', 'tags=crypto'])).code).toBe(0);

    const diff = await box.json(['env', 'diff', 'lab']);
    expect(diff.body.changes.map((c: { op: string; path: string }) => `${c.op} ${c.path}`).sort()).toEqual(['add feeds.polymarket', 'change day.end', 'change profile.memory_mb']);

    const plan2 = await box.json(['env', 'plan', 'lab']);
    expect(plan2.body.changes).toEqual([
      { area: 'revision', op: 'add', target: 'lab@2' },
      { area: 'day', op: 'change', target: 'lab: 07:00-23:00 Europe/London (every-day)' },
      { area: 'feed', op: 'add', target: 'lab/polymarket' },
    ]);
    const applied = await box.json(['env', 'apply', 'lab']);
    expect(applied.body.changes).toEqual(plan2.body.changes);
    expect((await box.json(['env', 'apply', 'lab'])).body.unchanged).toBe(true);

    expect((await box.run(['env', 'remove-feed', 'lab', 'polymarket'])).code).toBe(0);
    expect((await box.json(['env', 'apply', 'lab'])).body.changes).toContainEqual({ area: 'feed', op: 'remove', target: 'lab/polymarket' });

    const history = await box.json(['env', 'history', 'lab']);
    expect(history.body.map((r: { revision: number }) => r.revision)).toEqual([3, 2, 1]);
    expect(history.body[0].applied_by).toBe('tester@test');
    const shown = await box.json(['env', 'show', 'lab', '--revision', '2']);
    expect(shown.body.content).toContain('polymarket');
    expect((await box.json(['env', 'show', 'lab', '--as-of', '2000-01-01T00:00:00Z'])).code).toBe(3);
  });

  it('refuses an edit that would make the file invalid and leaves the file as it was', async () => {
    await box.run(['env', 'init', 'edit-me']);
    const file = join(box.dir, 'deploy/environments/edit-me.yaml');
    const before = await readFile(file, 'utf8');
    const r = await box.run(['env', 'set', 'edit-me', 'day.timezone=Nowhere/Land']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/day\.timezone: expected an IANA time zone/);
    const r2 = await box.run(['env', 'add-feed', 'edit-me', '--venue', 'kalshi', '--channels', 'book']);
    expect(r2.code).toBe(2);
    expect(await readFile(file, 'utf8')).toBe(before);
  });
});
