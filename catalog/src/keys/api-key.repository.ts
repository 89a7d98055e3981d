import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AuthError, NotFoundError, SsmdError } from '../../../core/src/errors.js';
import type { Database } from '../database.js';
import type { ApiKeyRow } from '../tables/keys.table.js';
import { audit } from '../audit/audit.repository.js';

/** Scopes a client API key can carry. `admin` implies every other scope. */
export const SCOPES = ['data:read', 'jobs:write', 'dq:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** An authenticated client. */
export interface ApiPrincipal {
  id: string;
  name: string;
  scopes: Scope[];
}

export type ApiKeyInfo = Omit<ApiKeyRow, 'secret_hash'>;

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const TOKEN = /^ssmd_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

// API key secrets are 32 random bytes, so a fast hash is the right tool (no dictionary to resist).
const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

function checkScopes(scopes: readonly string[]): Scope[] {
  const bad = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || bad.length) {
    throw new SsmdError(`invalid scopes ${JSON.stringify(bad.length ? bad : scopes)}: expected one or more of ${SCOPES.join(', ')}`, { code: 'INVALID_SCOPE' });
  }
  return [...new Set(scopes)] as Scope[];
}

/** Create a client key. The token is returned once and never stored. */
export async function createApiKey(
  db: Kysely<Database>, input: { name: string; scopes: readonly string[]; expiresAt?: Date; actor: string },
): Promise<{ id: string; token: string; scopes: Scope[] }> {
  const scopes = checkScopes(input.scopes);
  const id = Array.from({ length: 12 }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join('');
  const secret = randomBytes(32).toString('base64url');
  await db.transaction().execute(async (tx) => {
    await tx.insertInto('api_keys').values({
      id, name: input.name, scopes, secret_hash: hashSecret(secret), created_by: input.actor,
      expires_at: input.expiresAt ?? null, revoked_at: null, last_used_at: null,
    }).execute();
    await audit(tx, { actor: input.actor, action: 'apikey.create', target: `apikey:${id}`, detail: { name: input.name, scopes } });
  });
  return { id, token: `ssmd_${id}_${secret}`, scopes };
}

export async function listApiKeys(db: Kysely<Database>): Promise<ApiKeyInfo[]> {
  return db.selectFrom('api_keys').select(['id', 'name', 'scopes', 'created_by', 'created_at', 'expires_at', 'revoked_at', 'last_used_at']).orderBy('created_at').execute();
}

export async function revokeApiKey(db: Kysely<Database>, id: string, actor: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const res = await tx.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    if (res.numUpdatedRows === 0n) throw new NotFoundError(`API key ${id} does not exist or is already revoked`);
    await audit(tx, { actor, action: 'apikey.revoke', target: `apikey:${id}` });
  });
}

/**
 * Authenticate a bearer token and require `scope`. Every attempt, allowed or not, is audited
 * with the surface it came through (e.g. `mcp-http`, `gateway`).
 */
export async function authenticateApiKey(db: Kysely<Database>, token: string, scope: Scope, surface: string, now = new Date()): Promise<ApiPrincipal> {
  const m = TOKEN.exec(token.trim());
  const deny = async (id: string, reason: string): Promise<never> => {
    await audit(db, { actor: `apikey:${id}`, action: 'apikey.use', target: surface, outcome: 'denied', detail: { scope, reason } });
    throw new AuthError(`API key rejected: ${reason}`);
  };
  if (!m) return deny('malformed', 'not an ssmd API key (expected ssmd_<id>_<secret>)');
  const [, id, secret] = m as unknown as [string, string, string];
  const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  const expected = Buffer.from(row?.secret_hash ?? '0'.repeat(64), 'hex');
  const match = timingSafeEqual(expected, Buffer.from(hashSecret(secret), 'hex'));
  if (!row || !match) return deny(id, 'unknown key or wrong secret');
  if (row.revoked_at) return deny(id, 'key is revoked');
  if (row.expires_at && row.expires_at <= now) return deny(id, `key expired at ${row.expires_at.toISOString()}`);
  const scopes = row.scopes as Scope[];
  if (!scopes.includes('admin') && !scopes.includes(scope)) return deny(id, `missing scope ${scope} (key has ${scopes.join(', ')})`);
  await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute();
  await audit(db, { actor: `apikey:${id}`, action: 'apikey.use', target: surface, detail: { scope } });
  return { id, name: row.name, scopes };
}
