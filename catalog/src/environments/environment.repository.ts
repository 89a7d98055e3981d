import type { Kysely } from 'kysely';
import { ConfigError, NotFoundError, SsmdError } from '../../../core/src/errors.js';
import { collectKeyRefs, positionOf } from '../../../core/src/environment/keyrefs.js';
import { diffEnvironments } from '../../../core/src/environment/diff.js';
import type { Environment } from '../../../core/src/environment/schema.js';
import type { Database } from '../database.js';
import type { EnvironmentRevision } from '../tables/environments.table.js';
import { audit } from '../audit/audit.repository.js';
import { missingSecrets } from '../keys/secret.repository.js';
import { BUILTIN_CALENDARS, recordCalendar, recordDayDefinition } from '../calendars/calendar.repository.js';
import { closeVersion, upsertVersion, type UpsertOutcome, type VersionedSpec } from '../timeseries/timeseries.js';

/** A validated environment file, as `loadEnvironmentFile` returns it. */
export interface LoadedEnvironment {
  env: Environment;
  text: string;
  file: string;
  sha256: string;
}

/** One change `apply` makes (or would make) to the catalog. */
export interface CatalogChange {
  area: 'environment' | 'revision' | 'day' | 'calendar' | 'feed';
  op: 'add' | 'change' | 'remove';
  target: string;
}

export interface ApplyResult {
  environment: string;
  /** The revision in force after apply (unchanged content keeps the current one). */
  revision: number;
  previousRevision: number | null;
  unchanged: boolean;
  changes: CatalogChange[];
  /** Field-level differences from the previously applied revision. */
  diff: ReturnType<typeof diffEnvironments>;
}

export const ENVIRONMENT_FEED_SPEC: VersionedSpec = {
  table: 'environment_feeds', key: ['environment', 'feed_name'], columns: { venue: 'text', spec: 'jsonb' },
};

class DryRun extends Error {
  constructor(readonly result: ApplyResult) {
    super('dry run');
  }
}

const opOf = (o: UpsertOutcome): CatalogChange['op'] | null => (o === 'inserted' ? 'add' : o === 'changed' ? 'change' : null);

/** Fail with file:line:col for every `key:` reference that is not an active secret. */
export async function checkKeyReferences(db: Kysely<Database>, loaded: LoadedEnvironment): Promise<void> {
  const refs = collectKeyRefs(loaded.env);
  const missing = new Set(await missingSecrets(db, refs.map((r) => r.name)));
  const issues = refs.filter((r) => missing.has(r.name)).map((r) => ({
    ...positionOf(loaded.text, loaded.file, r.path), path: r.path,
    expected: `a key in the key store (add it with \`ssmd keys add ${r.name}\`)`, got: `${r.ref} (no such active key)`,
  }));
  if (issues.length) throw new ConfigError(issues);
}

/** The latest applied revision of an environment, or undefined. */
export async function latestRevision(db: Kysely<Database>, name: string): Promise<EnvironmentRevision | undefined> {
  return db.selectFrom('environment_revisions').selectAll().where('environment', '=', name).orderBy('revision', 'desc').executeTakeFirst();
}

async function applyIn(tx: Kysely<Database>, loaded: LoadedEnvironment, actor: string, at: Date): Promise<ApplyResult> {
  const { env } = loaded;
  await checkKeyReferences(tx, loaded);
  const changes: CatalogChange[] = [];
  const known = await tx.selectFrom('environments').select('name').where('name', '=', env.name).executeTakeFirst();
  if (!known) {
    await tx.insertInto('environments').values({ name: env.name }).execute();
    changes.push({ area: 'environment', op: 'add', target: env.name });
  }
  const latest = await latestRevision(tx, env.name);
  const previous = (latest?.spec as Environment | undefined) ?? null;
  const diff = diffEnvironments(previous, env);
  if (latest && latest.content_sha256 === loaded.sha256) {
    return { environment: env.name, revision: latest.revision, previousRevision: latest.revision, unchanged: true, changes, diff };
  }
  const revision = (latest?.revision ?? 0) + 1;
  await tx.insertInto('environment_revisions').values({
    environment: env.name, revision, content: loaded.text, content_sha256: loaded.sha256,
    spec: JSON.stringify(env) as never, source_file: loaded.file, applied_by: actor, applied_at: at,
  }).execute();
  changes.push({ area: 'revision', op: 'add', target: `${env.name}@${revision}` });

  for (const cal of [...BUILTIN_CALENDARS, ...env.calendars]) {
    const op = opOf(await recordCalendar(tx, { name: cal.name, weekdays: [...cal.weekdays], holidays: [...cal.holidays] }, at));
    if (op) changes.push({ area: 'calendar', op, target: cal.name });
  }
  const day = { environment: env.name, timezone: env.day.timezone, start_time: env.day.start, end_time: env.day.end, overnight: env.day.overnight, calendar: env.day.calendar };
  const dayOp = opOf(await recordDayDefinition(tx, day, at));
  if (dayOp) changes.push({ area: 'day', op: dayOp, target: `${env.name}: ${env.day.start}-${env.day.end} ${env.day.timezone} (${env.day.calendar})` });

  const open = await tx.selectFrom('environment_feeds').select('feed_name').where('environment', '=', env.name).where('valid_to', 'is', null).execute();
  for (const feed of env.feeds) {
    const op = opOf(await upsertVersion(tx, ENVIRONMENT_FEED_SPEC, { environment: env.name, feed_name: feed.name, venue: feed.feed, spec: feed }, at));
    if (op) changes.push({ area: 'feed', op, target: `${env.name}/${feed.name}` });
  }
  for (const { feed_name } of open) {
    if (env.feeds.some((f) => f.name === feed_name)) continue;
    await closeVersion(tx, ENVIRONMENT_FEED_SPEC, { environment: env.name, feed_name }, at);
    changes.push({ area: 'feed', op: 'remove', target: `${env.name}/${feed_name}` });
  }
  await audit(tx, { actor, action: 'env.apply', target: `env:${env.name}`, detail: { revision, sha256: loaded.sha256, file: loaded.file, changes: changes.length } });
  return { environment: env.name, revision, previousRevision: latest?.revision ?? null, unchanged: false, changes, diff };
}

/**
 * Record a new revision of the environment and bring the catalog in line with it (day
 * definition, calendars, feed assignments), all in one transaction. Applying the same content
 * again changes nothing. Refuses, before writing anything, when a `key:` reference is missing.
 */
export async function applyEnvironment(db: Kysely<Database>, loaded: LoadedEnvironment, opts: { actor: string; at?: Date }): Promise<ApplyResult> {
  return db.transaction().execute((tx) => applyIn(tx, loaded, opts.actor, opts.at ?? new Date()));
}

/** Exactly what `applyEnvironment` would change: the same code, rolled back. */
export async function planEnvironment(db: Kysely<Database>, loaded: LoadedEnvironment, opts: { actor: string; at?: Date }): Promise<ApplyResult> {
  try {
    await db.transaction().execute(async (tx) => {
      throw new DryRun(await applyIn(tx, loaded, opts.actor, opts.at ?? new Date()));
    });
  } catch (err) {
    if (err instanceof DryRun) return err.result;
    throw err;
  }
  throw new SsmdError('plan did not roll back', { code: 'INTERNAL' });
}

export type RevisionSummary = Omit<EnvironmentRevision, 'content' | 'spec'>;

/** Every applied revision, newest first, without contents. */
export async function environmentHistory(db: Kysely<Database>, name: string): Promise<RevisionSummary[]> {
  const rows = await db.selectFrom('environment_revisions')
    .select(['id', 'environment', 'revision', 'content_sha256', 'source_file', 'applied_by', 'applied_at'])
    .where('environment', '=', name).orderBy('revision', 'desc').execute();
  if (rows.length === 0) throw new NotFoundError(`environment ${name} has never been applied (see \`ssmd env list\`)`);
  return rows;
}

/** One revision with its content: a number, the one in force at an instant, or the latest. */
export async function getRevision(db: Kysely<Database>, name: string, which: { revision?: number; asOf?: Date } = {}): Promise<EnvironmentRevision> {
  let q = db.selectFrom('environment_revisions').selectAll().where('environment', '=', name);
  if (which.revision !== undefined) q = q.where('revision', '=', which.revision);
  if (which.asOf) q = q.where('applied_at', '<=', which.asOf);
  const row = await q.orderBy('revision', 'desc').executeTakeFirst();
  if (!row) {
    const what = which.revision !== undefined ? `revision ${which.revision}` : which.asOf ? `a revision applied by ${which.asOf.toISOString()}` : 'any revision';
    throw new NotFoundError(`environment ${name} has no ${what} (see \`ssmd env history ${name}\`)`);
  }
  return row;
}

export async function listEnvironments(db: Kysely<Database>): Promise<Array<{ name: string; revision: number; applied_at: Date; applied_by: string }>> {
  const rows = await db.selectFrom('environment_revisions as r')
    .innerJoin((eb) => eb.selectFrom('environment_revisions').select((e) => ['environment', e.fn.max('revision').as('rev')]).groupBy('environment').as('m'),
      (j) => j.onRef('m.environment', '=', 'r.environment').onRef('m.rev', '=', 'r.revision'))
    .select(['r.environment as name', 'r.revision', 'r.applied_at', 'r.applied_by']).orderBy('r.environment').execute();
  return rows;
}
