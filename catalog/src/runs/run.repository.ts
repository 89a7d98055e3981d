import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { Checkpoint, Run, RunKind, RunStatus } from '../tables/runs.table.js';

/** Create a run in `running` state and return it. */
export async function startRun(db: Kysely<Database>, run: { kind: RunKind; codeVersion: string; environment?: string; feed?: string; day?: string; params?: unknown }): Promise<Run> {
  return db.insertInto('runs').values({
    id: randomUUID(), kind: run.kind, environment: run.environment ?? null, feed: run.feed ?? null, day: run.day ?? null,
    status: 'running', params: JSON.stringify(run.params ?? {}) as never, host: hostname(), code_version: run.codeVersion,
    error: null, started_at: new Date(), finished_at: null,
  }).returningAll().executeTakeFirstOrThrow();
}

export async function finishRun(db: Kysely<Database>, id: string, status: Exclude<RunStatus, 'pending' | 'running'>, error?: string): Promise<void> {
  await db.updateTable('runs').set({ status, error: error ?? null, finished_at: new Date() }).where('id', '=', id).execute();
}

export async function getRun(db: Kysely<Database>, id: string): Promise<Run | undefined> {
  return db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Save where `job` got to within `scope` (e.g. `kalshi/2026-11-29`); last write wins. */
export async function saveCheckpoint(db: Kysely<Database>, job: string, scope: string, position: unknown, runId?: string): Promise<void> {
  await db.insertInto('checkpoints').values({ job, scope, position: JSON.stringify(position) as never, run_id: runId ?? null })
    .onConflict((oc) => oc.columns(['job', 'scope']).doUpdateSet({ position: JSON.stringify(position) as never, run_id: runId ?? null, updated_at: new Date() }))
    .execute();
}

export async function loadCheckpoint(db: Kysely<Database>, job: string, scope: string): Promise<Checkpoint | undefined> {
  return db.selectFrom('checkpoints').selectAll().where('job', '=', job).where('scope', '=', scope).executeTakeFirst();
}
