import { generateKeyPairSync } from 'node:crypto';
import { expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeOnBothCatalogs } from './context.js';
import { generateMasterKey } from '../../core/src/crypto/envelope.js';
import { Redactor } from '../../core/src/log/redact.js';
import { AuthError, NotFoundError } from '../../core/src/errors.js';
import { addSecret, listSecrets, missingSecrets, resolveSecret, revokeSecret, rotateMasterKey, rotateSecret, type KeyStoreContext } from '../src/keys/secret.repository.js';
import { authenticateApiKey, createApiKey, listApiKeys, revokeApiKey } from '../src/keys/api-key.repository.js';
import { listAudit } from '../src/audit/audit.repository.js';
import type { Catalog } from '../src/db/connect.js';

const PKCS8 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const PKCS1 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY-unique-7731';

/** Every table of the catalog as text, bytea columns rendered as hex and as base64. */
async function dumpDatabase(catalog: Catalog): Promise<string> {
  const tables = await sql<{ tablename: string }>`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`.execute(catalog.db);
  let out = '';
  for (const { tablename } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(tablename)}`.execute(catalog.db);
    for (const row of rows.rows) {
      for (const v of Object.values(row)) {
        if (v instanceof Uint8Array) out += `${Buffer.from(v).toString('hex')} ${Buffer.from(v).toString('base64')} ${Buffer.from(v).toString('latin1')}\n`;
        else out += `${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`;
      }
    }
  }
  return out;
}

describeOnBothCatalogs('key store', (catalog) => {
  const ctx = (): KeyStoreContext => ({ kek: kek1, actor: 'tester', redactor: new Redactor() });
  const kek1 = generateMasterKey();
  const kek2 = generateMasterKey();

  it('stores secrets encrypted: the database never holds the plaintext', async () => {
    const { db } = catalog();
    await addSecret(db, ctx(), { name: 's3-offsite', kind: 's3', value: Buffer.from(SECRET), attributes: { access_key_id: 'AKIDEXAMPLE' } });
    await addSecret(db, ctx(), { name: 'kalshi-prod', kind: 'kalshi-rsa', value: Buffer.from(PKCS8), attributes: { key_id: 'abc-123' } });
    const dump = await dumpDatabase(catalog());
    expect(dump).toContain('s3-offsite');
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain(Buffer.from(SECRET).toString('hex'));
    expect(dump).not.toContain(Buffer.from(SECRET).toString('base64'));
    for (const line of PKCS8.split('\n').filter((l) => l.length > 20)) expect(dump).not.toContain(line);
    expect((await resolveSecret(db, ctx(), 's3-offsite', 'test')).toString()).toBe(SECRET);
    expect((await resolveSecret(db, ctx(), 'kalshi-prod', 'test')).toString()).toBe(PKCS8);
  });

  it('accepts PKCS#1 and PKCS#8 RSA keys and refuses anything else without echoing it', async () => {
    const { db } = catalog();
    await addSecret(db, ctx(), { name: 'k1', kind: 'kalshi-rsa', value: Buffer.from(PKCS1), attributes: { key_id: 'a' } });
    await addSecret(db, ctx(), { name: 'k8', kind: 'kalshi-rsa', value: Buffer.from(PKCS8), attributes: { key_id: 'b' } });
    const err = await addSecret(db, ctx(), { name: 'kbad', kind: 'kalshi-rsa', value: Buffer.from('not-a-key-but-secret-9912'), attributes: { key_id: 'c' } }).catch((e: Error) => e);
    expect(String(err)).toMatch(/expected an RSA private key in PEM/);
    expect(String(err)).not.toContain('not-a-key-but-secret-9912');
    await expect(addSecret(db, ctx(), { name: 'k9', kind: 'kalshi-rsa', value: Buffer.from(PKCS8) })).rejects.toThrow(/attribute key_id/);
    expect((await listSecrets(db)).map((s) => s.name)).toEqual(['k1', 'k8']);
  });

  it('rotates a secret to a new version and revokes it', async () => {
    const { db } = catalog();
    await addSecret(db, ctx(), { name: 'linear', kind: 'linear', value: Buffer.from('lin_api_first000000') });
    const info = await rotateSecret(db, ctx(), 'linear', Buffer.from('lin_api_second00000'));
    expect(info.version).toBe(2);
    expect(info.versions).toBe(2);
    expect((await resolveSecret(db, ctx(), 'linear', 'test')).toString()).toBe('lin_api_second00000');
    await revokeSecret(db, ctx(), 'linear');
    await expect(resolveSecret(db, ctx(), 'linear', 'test')).rejects.toBeInstanceOf(NotFoundError);
    expect(await missingSecrets(db, ['linear', 'other'])).toEqual(['linear', 'other']);
    const actions = (await listAudit(db)).map((a) => `${a.action}:${a.outcome}`);
    expect(actions).toEqual(['key.use:denied', 'key.revoke:ok', 'key.use:ok', 'key.rotate:ok', 'key.add:ok']);
  });

  it('refuses the wrong master key and a row moved onto another name', async () => {
    const { db } = catalog();
    await addSecret(db, ctx(), { name: 'a-key', kind: 'generic', value: Buffer.from('value-of-a-000') });
    await addSecret(db, ctx(), { name: 'b-key', kind: 'generic', value: Buffer.from('value-of-b-000') });
    await expect(resolveSecret(db, { ...ctx(), kek: kek2 }, 'a-key', 'test')).rejects.toBeInstanceOf(AuthError);
    // Copy a's sealed fields onto b: authenticated data binds them to a's name, so b no longer opens.
    await sql`UPDATE secrets SET ciphertext = a.ciphertext, iv = a.iv, tag = a.tag, wrapped_dek = a.wrapped_dek, dek_iv = a.dek_iv, dek_tag = a.dek_tag
              FROM secrets a WHERE a.name = 'a-key' AND secrets.name = 'b-key'`.execute(db);
    await expect(resolveSecret(db, ctx(), 'b-key', 'test')).rejects.toThrow(/does not unwrap/);
  });

  it('rotates the master key by re-wrapping, losing nothing', async () => {
    const { db } = catalog();
    await addSecret(db, ctx(), { name: 'one', kind: 'generic', value: Buffer.from('first-secret-value') });
    await addSecret(db, ctx(), { name: 'two', kind: 'generic', value: Buffer.from('second-secret-value') });
    await rotateSecret(db, ctx(), 'two', Buffer.from('second-secret-value-v2'));
    const before = await sql<{ c: string }>`SELECT encode(ciphertext, 'hex') AS c FROM secrets ORDER BY id`.execute(db);
    expect((await rotateMasterKey(db, 'tester', kek1, kek2)).rewrapped).toBe(3);
    const after = await sql<{ c: string }>`SELECT encode(ciphertext, 'hex') AS c FROM secrets ORDER BY id`.execute(db);
    expect(after.rows).toEqual(before.rows);
    const next = { ...ctx(), kek: kek2 };
    expect((await resolveSecret(db, next, 'one', 't')).toString()).toBe('first-secret-value');
    expect((await resolveSecret(db, next, 'two', 't')).toString()).toBe('second-secret-value-v2');
    await expect(resolveSecret(db, ctx(), 'one', 't')).rejects.toThrow(/wrapped with master key mk-/);
  });

  it('registers resolved secrets with the redactor', async () => {
    const { db } = catalog();
    const c = ctx();
    await addSecret(db, c, { name: 'tok', kind: 'generic', value: Buffer.from('super-secret-token-123') });
    await resolveSecret(db, c, 'tok', 'test');
    expect(c.redactor.redact('connecting with super-secret-token-123')).toBe('connecting with [REDACTED:key:tok]');
  });

  it('issues scoped API keys, stores only a hash, and audits every use', async () => {
    const { db } = catalog();
    const { id, token } = await createApiKey(db, { name: 'agent', scopes: ['data:read', 'dq:write'], actor: 'tester' });
    expect(token).toMatch(/^ssmd_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expect(await dumpDatabase(catalog())).not.toContain(token.slice('ssmd_'.length + 13)); // the secret part (may contain '_')
    expect((await authenticateApiKey(db, token, 'data:read', 'mcp-http')).name).toBe('agent');
    await expect(authenticateApiKey(db, token, 'jobs:write', 'mcp-http')).rejects.toThrow(/missing scope jobs:write/);
    await expect(authenticateApiKey(db, `${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`, 'data:read', 'mcp-http')).rejects.toThrow(/wrong secret/);
    await expect(authenticateApiKey(db, 'Bearer nonsense', 'data:read', 'mcp-http')).rejects.toBeInstanceOf(AuthError);
    await revokeApiKey(db, id, 'tester');
    await expect(authenticateApiKey(db, token, 'data:read', 'mcp-http')).rejects.toThrow(/revoked/);
    const expired = await createApiKey(db, { name: 'old', scopes: ['admin'], actor: 'tester', expiresAt: new Date('2020-01-01T00:00:00Z') });
    await expect(authenticateApiKey(db, expired.token, 'data:read', 'gateway')).rejects.toThrow(/expired/);
    await expect(createApiKey(db, { name: 'x', scopes: ['root'], actor: 'tester' })).rejects.toThrow(/invalid scopes \["root"\]/);
    const uses = (await listAudit(db, { action: 'apikey.use' })).map((a) => a.outcome);
    expect(uses).toEqual(['denied', 'denied', 'denied', 'denied', 'denied', 'ok']);
    expect((await listApiKeys(db)).find((k) => k.id === id)?.last_used_at).not.toBeNull();
  });

  it('keeps the audit log append-only', async () => {
    const { db } = catalog();
    await addSecret(db, ctx(), { name: 'z-key', kind: 'generic', value: Buffer.from('zzzzzzzzzzzz') });
    await expect(sql`UPDATE audit_log SET actor = 'someone-else'`.execute(db)).rejects.toThrow(/append-only/);
  });
});
