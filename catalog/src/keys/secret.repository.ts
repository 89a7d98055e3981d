import type { Kysely } from 'kysely';
import { NotFoundError, SsmdError } from '../../../core/src/errors.js';
import { open, rewrap, seal, type MasterKey, type Sealed } from '../../../core/src/crypto/envelope.js';
import type { Redactor } from '../../../core/src/log/redact.js';
import type { Database } from '../database.js';
import type { SecretRow, SecretStatus } from '../tables/keys.table.js';
import { audit } from '../audit/audit.repository.js';
import { validateSecret, type SecretKind } from './kinds.js';

/** What every key-store call needs: the master key, who is acting, and the redactor to arm. */
export interface KeyStoreContext {
  kek: MasterKey;
  actor: string;
  redactor: Redactor;
}

export const SECRET_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Metadata of one secret; never the value. */
export interface SecretInfo {
  name: string;
  kind: string;
  version: number;
  status: SecretStatus;
  byteLength: number;
  attributes: Record<string, string>;
  kekId: string;
  createdBy: string;
  createdAt: Date;
  versions: number;
}

const aadOf = (name: string, version: number) => `${name}#${version}`;

function toSealed(row: SecretRow): Sealed {
  const b = (u: Uint8Array) => Buffer.from(u);
  return { ciphertext: b(row.ciphertext), iv: b(row.iv), tag: b(row.tag), wrappedDek: b(row.wrapped_dek), dekIv: b(row.dek_iv), dekTag: b(row.dek_tag), kekId: row.kek_id };
}

function checkName(name: string): void {
  if (!SECRET_NAME.test(name)) throw new SsmdError(`invalid key name ${JSON.stringify(name)}: expected lowercase letters, digits, '.', '_' or '-' (at most 63)`, { code: 'INVALID_NAME' });
}

async function insertVersion(db: Kysely<Database>, ctx: KeyStoreContext, name: string, kind: string, version: number, value: Buffer, attributes: Record<string, string>): Promise<void> {
  const s = seal(value, ctx.kek, aadOf(name, version));
  await db.insertInto('secrets').values({
    name, version, kind, ciphertext: s.ciphertext, iv: s.iv, tag: s.tag, wrapped_dek: s.wrappedDek, dek_iv: s.dekIv, dek_tag: s.dekTag,
    kek_id: s.kekId, byte_length: value.length, attributes: JSON.stringify(attributes) as never, status: 'active', created_by: ctx.actor, retired_at: null,
  }).execute();
}

/** Store a new named secret (version 1). Refuses an existing name: use `rotateSecret`. */
export async function addSecret(db: Kysely<Database>, ctx: KeyStoreContext, input: { name: string; kind: SecretKind; value: Buffer; attributes?: Record<string, string> }): Promise<SecretInfo> {
  checkName(input.name);
  const attributes = validateSecret(input.name, input.kind, input.value, input.attributes ?? {});
  await db.transaction().execute(async (tx) => {
    const existing = await tx.selectFrom('secrets').select('id').where('name', '=', input.name).executeTakeFirst();
    if (existing) throw new SsmdError(`key ${input.name} already exists; use \`ssmd keys rotate ${input.name}\` to replace its value`, { code: 'ALREADY_EXISTS' });
    await insertVersion(tx, ctx, input.name, input.kind, 1, input.value, attributes);
    await audit(tx, { actor: ctx.actor, action: 'key.add', target: `key:${input.name}`, detail: { kind: input.kind, version: 1, bytes: input.value.length } });
  });
  return showSecret(db, input.name);
}

/** Replace a secret's value with a new version; the old version is retired (kept for audit). */
export async function rotateSecret(db: Kysely<Database>, ctx: KeyStoreContext, name: string, value: Buffer, attributes?: Record<string, string>): Promise<SecretInfo> {
  await db.transaction().execute(async (tx) => {
    const latest = await tx.selectFrom('secrets').selectAll().where('name', '=', name).orderBy('version', 'desc').forUpdate().executeTakeFirst();
    if (!latest) throw new NotFoundError(`key ${name} does not exist; add it with \`ssmd keys add ${name}\``);
    if (latest.status === 'revoked') throw new SsmdError(`key ${name} is revoked; add it under a new name`, { code: 'REVOKED' });
    await tx.updateTable('secrets').set({ status: 'retired', retired_at: new Date() }).where('name', '=', name).where('status', '=', 'active').execute();
    const attrs = validateSecret(name, latest.kind as SecretKind, value, attributes ?? latest.attributes);
    await insertVersion(tx, ctx, name, latest.kind, latest.version + 1, value, attrs);
    await audit(tx, { actor: ctx.actor, action: 'key.rotate', target: `key:${name}`, detail: { version: latest.version + 1, bytes: value.length } });
  });
  return showSecret(db, name);
}

/** Revoke every version: the name stops resolving, the rows stay for audit. */
export async function revokeSecret(db: Kysely<Database>, ctx: KeyStoreContext, name: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const res = await tx.updateTable('secrets').set({ status: 'revoked', retired_at: new Date() }).where('name', '=', name).where('status', '!=', 'revoked').executeTakeFirst();
    if (res.numUpdatedRows === 0n) throw new NotFoundError(`key ${name} does not exist or is already revoked`);
    await audit(tx, { actor: ctx.actor, action: 'key.revoke', target: `key:${name}` });
  });
}

function info(rows: SecretRow[]): SecretInfo {
  const latest = rows.at(-1)!;
  return {
    name: latest.name, kind: latest.kind, version: latest.version, status: latest.status, byteLength: latest.byte_length, attributes: latest.attributes,
    kekId: latest.kek_id, createdBy: latest.created_by, createdAt: latest.created_at, versions: rows.length,
  };
}

/** Metadata of every secret (latest version of each name). */
export async function listSecrets(db: Kysely<Database>): Promise<SecretInfo[]> {
  const rows = await db.selectFrom('secrets').selectAll().orderBy('name').orderBy('version').execute();
  const byName = new Map<string, SecretRow[]>();
  for (const r of rows) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  return [...byName.values()].map(info);
}

export async function showSecret(db: Kysely<Database>, name: string): Promise<SecretInfo> {
  const rows = await db.selectFrom('secrets').selectAll().where('name', '=', name).orderBy('version').execute();
  if (rows.length === 0) throw new NotFoundError(`key ${name} does not exist`);
  return info(rows);
}

/** Which of `names` do not resolve to an active secret. */
export async function missingSecrets(db: Kysely<Database>, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const found = await db.selectFrom('secrets').select('name').where('name', 'in', [...names]).where('status', '=', 'active').execute();
  const have = new Set(found.map((r) => r.name));
  return [...new Set(names)].filter((n) => !have.has(n));
}

/**
 * Decrypt the active version of a secret for `purpose`. The value is registered with the
 * redactor before it is returned, and the use is audited.
 */
export async function resolveSecret(db: Kysely<Database>, ctx: KeyStoreContext, name: string, purpose: string): Promise<Buffer> {
  return (await resolveCredential(db, ctx, name, purpose)).value;
}

/** A decrypted secret with its non-secret attributes (e.g. the S3 access key id beside the secret key). */
export async function resolveCredential(db: Kysely<Database>, ctx: KeyStoreContext, name: string, purpose: string): Promise<{ value: Buffer; attributes: Record<string, string> }> {
  const row = await db.selectFrom('secrets').selectAll().where('name', '=', name).where('status', '=', 'active').executeTakeFirst();
  if (!row) {
    await audit(db, { actor: ctx.actor, action: 'key.use', target: `key:${name}`, outcome: 'denied', detail: { purpose, reason: 'missing or revoked' } });
    throw new NotFoundError(`key ${name} does not exist or is revoked (needed for ${purpose})`);
  }
  try {
    const value = open(toSealed(row), ctx.kek, aadOf(row.name, row.version));
    ctx.redactor.register(value, `key:${name}`);
    await audit(db, { actor: ctx.actor, action: 'key.use', target: `key:${name}`, detail: { purpose, version: row.version } });
    return { value, attributes: row.attributes };
  } catch (err) {
    await audit(db, { actor: ctx.actor, action: 'key.use', target: `key:${name}`, outcome: 'error', detail: { purpose, reason: (err as Error).message } });
    throw err;
  }
}

/**
 * Re-wrap every secret's data key from `from` to `to` in one transaction. Ciphertexts do not
 * change, so nothing can be lost; each re-wrapped key is checked to open before commit.
 */
export async function rotateMasterKey(db: Kysely<Database>, actor: string, from: MasterKey, to: MasterKey): Promise<{ rewrapped: number }> {
  if (from.id === to.id) throw new SsmdError(`the new master key is the current one (${from.id}); generate a new key`, { code: 'USAGE' });
  return db.transaction().execute(async (tx) => {
    const rows = await tx.selectFrom('secrets').selectAll().forUpdate().execute();
    let rewrapped = 0;
    for (const row of rows) {
      const aad = aadOf(row.name, row.version);
      const sealed = toSealed(row);
      if (row.kek_id === to.id) continue; // already moved by an interrupted earlier attempt
      const w = rewrap(sealed, from, to, aad);
      open({ ...sealed, ...w }, to, aad).fill(0);
      await tx.updateTable('secrets').set({ wrapped_dek: w.wrappedDek, dek_iv: w.dekIv, dek_tag: w.dekTag, kek_id: w.kekId }).where('id', '=', row.id).execute();
      rewrapped += 1;
    }
    await audit(tx, { actor, action: 'key.rotate-master', target: 'master-key', detail: { from: from.id, to: to.id, rewrapped } });
    return { rewrapped };
  });
}
