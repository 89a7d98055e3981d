import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openCatalog } from '../../catalog/src/db/connect.js';
import { resolveSecret } from '../../catalog/src/keys/secret.repository.js';
import { loadMasterKey } from '../../core/src/crypto/master-key.js';
import { createLogger } from '../../core/src/log/logger.js';
import { redactor } from '../../core/src/log/redact.js';
import { startPostgres } from '../../test/harness/postgres.js';
import { CliSandbox } from './cli-harness.js';

const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const S3_SECRET = 'Zq8r/Secret+Access/Key-0123456789abcdef';

describe('secrets never appear in logs, CLI output or the database in plain text', () => {
  let box: CliSandbox;
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  const outputs: string[] = [];
  const run = async (argv: string[], stdin?: string) => {
    const r = await box.run(argv, stdin);
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  beforeAll(async () => {
    pg = await startPostgres();
    box = await CliSandbox.create({ SSMD_CATALOG: pg.url, S3_SECRET });
  });
  afterAll(async () => {
    await box.dispose();
    await pg.stop();
  });

  it('keeps them out of every output, the logs and every table, while still resolving them', async () => {
    expect((await run(['init'])).code).toBe(0);
    expect((await run(['keys', 'add', 'kalshi-prod', '--kind', 'kalshi-rsa', '--stdin', '--attr', 'key_id=k-123'], PEM)).code).toBe(0);
    expect((await run(['keys', 'add', 's3-offsite', '--kind', 's3', '--from-env', 'S3_SECRET', '--attr', 'access_key_id=AKIDEXAMPLE'])).code).toBe(0);
    expect((await run(['keys', 'rotate', 's3-offsite', '--from-env', 'S3_SECRET'])).code).toBe(0);
    for (const argv of [['keys', 'list'], ['keys', 'list', '--json'], ['keys', 'show', 'kalshi-prod'], ['keys', 'show', 's3-offsite', '--json'], ['audit'], ['audit', '--json']]) {
      expect((await run(argv)).code).toBe(0);
    }
    // A value on the command line is refused (it would be visible in ps and shell history).
    const argvSecret = await run(['keys', 'add', 'oops', '--kind', 'generic', S3_SECRET]);
    expect(argvSecret.code).not.toBe(0);

    // A caller that logs a resolved secret by mistake still leaks nothing.
    const catalog = await openCatalog(pg.url);
    const logLines: string[] = [];
    try {
      const kek = await loadMasterKey({ file: join(box.dir, '.ssmd', 'master.key') });
      const ctx = { kek, actor: 'test', redactor };
      const pem = (await resolveSecret(catalog.db, ctx, 'kalshi-prod', 'test')).toString();
      const s3 = (await resolveSecret(catalog.db, ctx, 's3-offsite', 'test')).toString();
      expect(pem).toBe(PEM);
      expect(s3).toBe(S3_SECRET);
      const log = createLogger({ level: 'debug', write: (l) => logLines.push(l) });
      log.debug(`signing with ${pem}`, { secret: s3, nested: { pem } });
      log.error('failed', { err: new Error(`bad secret ${s3}`) });

      // Every column of every table, bytea as hex and base64.
      const tables = await sql<{ tablename: string }>`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`.execute(catalog.db);
      let dump = '';
      for (const { tablename } of tables.rows) {
        const rows = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(tablename)}`.execute(catalog.db);
        for (const row of rows.rows) for (const v of Object.values(row)) {
          dump += v instanceof Uint8Array ? `${Buffer.from(v).toString('hex')} ${Buffer.from(v).toString('base64')}\n` : `${JSON.stringify(v)}\n`;
        }
      }
      expect(dump).toContain('kalshi-prod');
      for (const needle of [S3_SECRET, Buffer.from(S3_SECRET).toString('hex'), Buffer.from(S3_SECRET).toString('base64'), ...PEM.split('\n').filter((l) => l.length > 20)]) {
        expect(dump).not.toContain(needle);
      }
    } finally {
      await catalog.close();
    }

    expect(logLines.join('')).toContain('[REDACTED:key:kalshi-prod]');
    expect(logLines.join('')).toContain('[REDACTED:key:s3-offsite]');
    const everything = [...outputs, ...logLines].join('\n');
    expect(everything).toContain('kalshi-prod');
    expect(everything).not.toContain(S3_SECRET);
    for (const line of PEM.split('\n').filter((l) => l.length > 20)) expect(everything).not.toContain(line);
    expect(everything).not.toContain(S3_SECRET.slice(0, 20));
  });

  it('shows an API key token once and never again', async () => {
    const created = await box.run(['keys', 'api', 'create', 'agent', '--scopes', 'data:read,dq:write']);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^ssmd_[a-z0-9]{12}_/);
    const secret = token.slice('ssmd_'.length + 13); // base64url: the secret itself may contain '_'
    const listed = await box.run(['keys', 'api', 'list', '--json']);
    expect(JSON.parse(listed.stdout)[0].scopes).toEqual(['data:read', 'dq:write']);
    expect(listed.stdout).not.toContain(secret);
    expect((await box.run(['audit'])).stdout).not.toContain(secret);
    const bad = await box.run(['keys', 'api', 'create', 'x', '--scopes', 'root']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid scopes \["root"\]: expected one or more of data:read, jobs:write, dq:write, admin/);
  });
});
