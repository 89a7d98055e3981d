import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { AuditEntry } from '../tables/keys.table.js';

export interface AuditEvent {
  actor: string;
  action: string;
  target: string;
  outcome?: 'ok' | 'denied' | 'error';
  /** Never a secret: names, counts, hashes and reasons only. */
  detail?: Record<string, unknown>;
}

/** Append one audit entry (in the caller's transaction when given one). */
export async function audit(db: Kysely<Database>, event: AuditEvent): Promise<void> {
  await db.insertInto('audit_log').values({
    actor: event.actor, action: event.action, target: event.target,
    outcome: event.outcome ?? 'ok', detail: JSON.stringify(event.detail ?? {}) as unknown as Record<string, unknown>,
  }).execute();
}

/** Newest first. */
export async function listAudit(db: Kysely<Database>, opts: { since?: Date; action?: string; target?: string; limit?: number } = {}): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(opts.limit ?? 100);
  if (opts.since) q = q.where('at', '>=', opts.since);
  if (opts.action) q = q.where('action', 'like', opts.action.endsWith('*') ? `${opts.action.slice(0, -1)}%` : opts.action);
  if (opts.target) q = q.where('target', '=', opts.target);
  return q.execute();
}
