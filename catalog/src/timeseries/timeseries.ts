import { sql, type Kysely, type RawBuilder } from 'kysely';
import { SsmdError } from '../../../core/src/errors.js';
import type { Database } from '../database.js';

/** SQL type of a tracked column; used to cast parameters so comparisons are by value. */
export type ColumnType = 'text' | 'numeric' | 'integer' | 'boolean' | 'timestamptz' | 'jsonb' | 'text[]' | 'date[]';

/**
 * Describes one versioned ("as of") table: rows are appended with `valid_from`, the previous open
 * row of the same key is closed with `valid_to`, and nothing else is ever updated.
 */
export interface VersionedSpec {
  table: keyof Database & string;
  /** Columns that identify the entity (one open row per key). */
  key: readonly string[];
  /** Columns whose change makes a new version. */
  columns: Readonly<Record<string, ColumnType>>;
  /** Whether the table has a `run_id` column linking each version to the run that observed it. */
  runId?: boolean;
}

export type UpsertOutcome = 'inserted' | 'changed' | 'unchanged';

export class OutOfOrderVersionError extends SsmdError {
  constructor(message: string) {
    super(message, { code: 'OUT_OF_ORDER_VERSION' });
  }
}

type Row = Record<string, unknown>;

function param(value: unknown, type: ColumnType): RawBuilder<unknown> {
  if (value === undefined || value === null) return sql`NULL::${sql.raw(type)}`;
  if (type === 'jsonb') return sql`${JSON.stringify(value)}::jsonb`;
  if (type === 'numeric' || type === 'integer') return sql`${String(value)}::${sql.raw(type)}`;
  return sql`${value}::${sql.raw(type)}`;
}

function keyMatch(spec: VersionedSpec, row: Row): RawBuilder<unknown> {
  return sql.join(spec.key.map((k) => sql`${sql.ref(k)} = ${row[k] as string}`), sql` AND `);
}

function describeKey(spec: VersionedSpec, row: Row): string {
  return `${spec.table}(${spec.key.map((k) => `${k}=${String(row[k])}`).join(', ')})`;
}

/**
 * Record `row` as the state of its entity from `at` on. Appends a new version only when a tracked
 * column `IS DISTINCT FROM` the open version, closing that version at `at`; otherwise does
 * nothing. Runs in the caller's transaction when given one, else in its own.
 */
export async function upsertVersion(db: Kysely<Database>, spec: VersionedSpec, row: Row, at: Date, runId?: string | null): Promise<UpsertOutcome> {
  if (!db.isTransaction) return db.transaction().execute((tx) => upsertVersion(tx, spec, row, at, runId));
  for (const k of spec.key) if (typeof row[k] !== 'string' || row[k] === '') throw new SsmdError(`${spec.table}: key column ${k} must be a non-empty string`, { code: 'INVALID_ROW' });
  const table = sql.table(spec.table);
  // The newest version, open or closed: a new version may neither precede it nor overlap it.
  const latest = await sql<{ id: number; valid_from: Date; valid_to: Date | null }>`SELECT id, valid_from, valid_to FROM ${table}
    WHERE ${keyMatch(spec, row)} ORDER BY valid_from DESC LIMIT 1 FOR UPDATE`.execute(db);
  const newest = latest.rows[0];
  if (newest?.valid_to && at.getTime() < newest.valid_to.getTime()) {
    throw new OutOfOrderVersionError(`${describeKey(spec, row)}: a version valid from ${at.toISOString()} would overlap the version that ended at ${newest.valid_to.toISOString()}`);
  }
  const current = newest && newest.valid_to === null ? newest : undefined;
  const cols = Object.entries(spec.columns);
  const changed = sql.join(cols.map(([c, t]) => sql`${sql.ref(c)} IS DISTINCT FROM ${param(row[c], t)}`), sql` OR `);
  if (current) {
    if (at.getTime() < current.valid_from.getTime()) {
      throw new OutOfOrderVersionError(`${describeKey(spec, row)}: a version valid from ${at.toISOString()} precedes the open version valid from ${current.valid_from.toISOString()}`);
    }
    const differs = await sql<{ d: boolean }>`SELECT (${changed}) AS d FROM ${table} WHERE id = ${current.id}`.execute(db);
    if (!differs.rows[0]?.d) return 'unchanged';
    if (at.getTime() === current.valid_from.getTime()) {
      throw new OutOfOrderVersionError(`${describeKey(spec, row)}: two different versions at the same instant ${at.toISOString()}`);
    }
    await sql`UPDATE ${table} SET valid_to = ${at} WHERE id = ${current.id}`.execute(db);
  }
  const insertCols = [...spec.key, ...cols.map(([c]) => c), 'valid_from', ...(spec.runId ? ['run_id'] : [])];
  const values = [
    ...spec.key.map((k) => sql`${row[k] as string}`),
    ...cols.map(([c, t]) => param(row[c], t)),
    sql`${at}::timestamptz`,
    ...(spec.runId ? [sql`${runId ?? null}::text`] : []),
  ];
  await sql`INSERT INTO ${table} (${sql.join(insertCols.map((c) => sql.ref(c)))}) VALUES (${sql.join(values)})`.execute(db);
  return current ? 'changed' : 'inserted';
}

/** Upsert many rows at one instant in one transaction; returns counts per outcome. */
export async function upsertVersions(db: Kysely<Database>, spec: VersionedSpec, rows: readonly Row[], at: Date, runId?: string | null): Promise<Record<UpsertOutcome, number>> {
  const counts: Record<UpsertOutcome, number> = { inserted: 0, changed: 0, unchanged: 0 };
  await db.transaction().execute(async (tx) => {
    for (const row of rows) counts[await upsertVersion(tx, spec, row, at, runId)] += 1;
  });
  return counts;
}

/** Close the open version of an entity at `at` (it stops existing from then on). */
export async function closeVersion(db: Kysely<Database>, spec: VersionedSpec, key: Row, at: Date): Promise<boolean> {
  const res = await sql`UPDATE ${sql.table(spec.table)} SET valid_to = ${at} WHERE ${keyMatch(spec, key)} AND valid_to IS NULL AND valid_from < ${at}`.execute(db);
  return (res.numAffectedRows ?? 0n) > 0n;
}

/** The versions in force at `at` (optionally only those matching `key`), ordered by key. */
export async function asOf<T = Row>(db: Kysely<Database>, spec: VersionedSpec, at: Date, key?: Row): Promise<T[]> {
  const filter = key ? sql`AND ${keyMatch(spec, key)}` : sql``;
  const order = sql.join(spec.key.map((k) => sql.ref(k)));
  const res = await sql<T>`SELECT * FROM ${sql.table(spec.table)}
    WHERE valid_from <= ${at} AND (valid_to IS NULL OR valid_to > ${at}) ${filter} ORDER BY ${order}`.execute(db);
  return res.rows;
}

/** Every version of one entity, oldest first. */
export async function history<T = Row>(db: Kysely<Database>, spec: VersionedSpec, key: Row): Promise<T[]> {
  const res = await sql<T>`SELECT * FROM ${sql.table(spec.table)} WHERE ${keyMatch(spec, key)} ORDER BY valid_from`.execute(db);
  return res.rows;
}
