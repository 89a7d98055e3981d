import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../database.js';

/** A data-quality finding as jobs and agents report it (M9, M15). */
export interface FindingInput {
  feed: string;
  /** UTC day `YYYY-MM-DD` the finding is about. */
  day: string;
  /** e.g. gap, sequence_gap, malformed_frame, unknown_message, journal_gap, buffer_limit_reached, data_dropped. */
  kind: string;
  severity: 'info' | 'warning' | 'error';
  summary: string;
  symbols?: string[];
  windowStart?: Date;
  windowEnd?: Date;
  /** Facts about the finding (never secrets). */
  detail?: Record<string, unknown>;
  /** Who found it: `connector:kalshi-0`, `archiver`, `agent:<key id>`... */
  source: string;
  runId?: string;
  /** What supports it (a query and its result, sample frames); appended on every report. */
  evidence?: Record<string, unknown>;
}

/**
 * The identity of a finding: feed, day, kind, sorted symbols and the window. Reporting the same
 * fingerprint again adds evidence to the existing finding instead of creating a new one.
 */
export function fingerprintOf(f: Pick<FindingInput, 'feed' | 'day' | 'kind' | 'symbols' | 'windowStart' | 'windowEnd'>): string {
  const parts = [f.feed, f.day, f.kind, [...(f.symbols ?? [])].sort().join(','), f.windowStart?.toISOString() ?? '', f.windowEnd?.toISOString() ?? ''];
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/** Record a finding (or add evidence to the one with the same fingerprint); returns its id and whether it is new. */
export async function recordFinding(db: Kysely<Database>, f: FindingInput): Promise<{ id: number; fingerprint: string; created: boolean }> {
  const fingerprint = fingerprintOf(f);
  return db.transaction().execute(async (tx) => {
    const inserted = await tx.insertInto('dq_findings').values({
      fingerprint, feed: f.feed, day: f.day, kind: f.kind, severity: f.severity, symbols: f.symbols ?? [], summary: f.summary,
      window_start: f.windowStart ?? null, window_end: f.windowEnd ?? null, detail: JSON.stringify(f.detail ?? {}) as never,
      source: f.source, run_id: f.runId ?? null, tracker_id: null, tracker_url: null,
    }).onConflict((oc) => oc.column('fingerprint').doNothing()).returning('id').executeTakeFirst();
    const id = inserted?.id ?? (await tx.selectFrom('dq_findings').select('id').where('fingerprint', '=', fingerprint).executeTakeFirstOrThrow()).id;
    if (!inserted) await tx.updateTable('dq_findings').set({ updated_at: sql`now()` as never }).where('id', '=', id).execute();
    if (f.evidence) await tx.insertInto('dq_evidence').values({ finding_id: id, evidence: JSON.stringify(f.evidence) as never, added_by: f.source }).execute();
    return { id, fingerprint, created: inserted !== undefined };
  });
}

/** Findings of a feed (or every feed) for a day, oldest first. */
export async function listFindings(db: Kysely<Database>, q: { day?: string; feed?: string; kind?: string; limit?: number } = {}) {
  let query = db.selectFrom('dq_findings').selectAll().orderBy('id').limit(q.limit ?? 500);
  if (q.day) query = query.where('day', '=', q.day);
  if (q.feed) query = query.where('feed', '=', q.feed);
  if (q.kind) query = query.where('kind', '=', q.kind);
  return query.execute();
}

/** Every piece of evidence attached to a finding, oldest first. */
export async function findingEvidence(db: Kysely<Database>, findingId: number) {
  return db.selectFrom('dq_evidence').selectAll().where('finding_id', '=', findingId).orderBy('id').execute();
}
