/**
 * The venues' secmaster sync machinery: one run per sync, one instant for every row, bounded
 * batches, dedupe, delisting after a full sync, malformed rows counted and skipped.
 */
import { sql, type Kysely } from 'kysely';
import { SsmdError } from '../../../core/src/errors.js';
import type { Clock } from '../../../core/src/middleware/clock.js';
import type { Database } from '../../../catalog/src/database.js';
import { audit } from '../../../catalog/src/audit/audit.repository.js';
import { finishRun, startRun } from '../../../catalog/src/runs/run.repository.js';
import { SECMASTER, type SecmasterEntity } from '../../../catalog/src/secmaster/entities.js';
import { delistInstrument, recordInstruments } from '../../../catalog/src/secmaster/secmaster.repository.js';
import type { SecmasterTables } from '../../../catalog/src/tables/secmaster.table.js';
import type { RetryOptions } from './http.js';


/** One row of an entity as written by `recordInstruments` (key and tracked columns). */
export type InstrumentRow<E extends SecmasterEntity> = Partial<Omit<SecmasterTables[E], 'id' | 'valid_from' | 'valid_to' | 'recorded_at' | 'run_id'>>;

/** A venue object turned into a row, or the reason it could not be (with its key when that much was readable). */
export type Mapped<E extends SecmasterEntity> = { ok: true; row: InstrumentRow<E> } | { ok: false; key?: string; reason: string };

export interface EntityOutcome {
  inserted: number;
  changed: number;
  unchanged: number;
  /** Open instruments the venue no longer returned (full syncs only). */
  delisted: number;
  /** Malformed rows skipped. */
  invalid: number;
  /** Rows whose key this sync had already seen (pagination moving under us); the first one wins. */
  duplicate: number;
}

export interface InvalidSample {
  entity: SecmasterEntity;
  key?: string;
  reason: string;
}

export interface SyncResult<E extends SecmasterEntity = SecmasterEntity> {
  runId: string;
  feed: string;
  /** The one instant every row of this sync is recorded at (`clock.now()` when the sync began). */
  at: Date;
  /** A full sync (no filter) delists what the venue no longer returns; a filtered one never does. */
  full: boolean;
  /** Objects received from the venue per entity, valid or not. */
  fetched: Record<E, number>;
  outcomes: Record<E, EntityOutcome>;
  invalid: { count: number; samples: InvalidSample[] };
}

/** Options every venue's `sync<Venue>Instruments` takes. */
export interface SyncOptions extends RetryOptions {
  /** REST base URL (default: the venue's public endpoint from protocols.md). */
  baseUrl?: string;
  /** The sync instant is `clock.now()`; retries and spacing sleep on it. */
  clock: Clock;
  signal?: AbortSignal;
  /** Rows per page requested (clamped to the endpoint's maximum). */
  pageSize?: number;
  /** Rows per `recordInstruments` call (default 500). */
  batchSize?: number;
  /** Minimum time between two REST calls (venue default from protocols.md). */
  spacingMs?: number;
  /** Recorded on the run (default `dev`). */
  codeVersion?: string;
  /** When given, the sync is written to the audit log as this actor. */
  actor?: string;
}

export const DEFAULT_BATCH_SIZE = 500;
const MAX_SAMPLES = 10;
const SEEN = sql.table('ssmd_secmaster_seen');

/** The sync failed; `partial` holds what was counted before it did (batches already written stay written). */
export class SecmasterSyncError extends SsmdError {
  readonly runId: string;
  readonly partial: SyncResult;
  constructor(message: string, o: { runId: string; partial: SyncResult; cause: unknown }) {
    super(message, { code: 'SECMASTER_SYNC_FAILED', cause: o.cause });
    this.runId = o.runId;
    this.partial = o.partial;
  }
}

/**
 * Receives mapped rows and writes them in bounded batches at the sync instant. Every key accepted (and every key of
 * a malformed row, so a parse problem never delists an instrument) goes into a session-local temp table, which
 * dedupes across batches and tells a full sync what to delist — memory holds one batch per entity, never the
 * whole universe.
 */
export class InstrumentSink<E extends SecmasterEntity> {
  readonly #buffers = new Map<E, Map<string, InstrumentRow<E>>>();

  constructor(
    private readonly conn: Kysely<Database>,
    private readonly result: SyncResult<E>,
    private readonly batchSize: number,
  ) {}

  async open(): Promise<void> {
    await sql`CREATE TEMP TABLE IF NOT EXISTS ${SEEN} (entity text NOT NULL, kind text NOT NULL, key text NOT NULL, PRIMARY KEY (entity, kind, key))`.execute(this.conn);
    await sql`TRUNCATE ${SEEN}`.execute(this.conn);
  }

  async close(): Promise<void> {
    await sql`DROP TABLE IF EXISTS ${SEEN}`.execute(this.conn);
  }

  /** Take one venue object's outcome; writes a batch when the entity's buffer is full. */
  async accept(entity: E, mapped: Mapped<E>): Promise<void> {
    this.result.fetched[entity] += 1;
    if (!mapped.ok) {
      this.result.outcomes[entity].invalid += 1;
      this.result.invalid.count += 1;
      if (this.result.invalid.samples.length < MAX_SAMPLES) {
        this.result.invalid.samples.push({ entity, ...(mapped.key === undefined ? {} : { key: mapped.key }), reason: mapped.reason });
      }
      if (mapped.key !== undefined) await this.#markSeen(entity, 'invalid', [mapped.key]);
      return;
    }
    const key = (mapped.row as Record<string, unknown>)[SECMASTER[entity].key[0]] as string;
    let buffer = this.#buffers.get(entity);
    if (buffer === undefined) this.#buffers.set(entity, (buffer = new Map()));
    if (buffer.has(key)) {
      this.result.outcomes[entity].duplicate += 1;
      return;
    }
    buffer.set(key, mapped.row);
    if (buffer.size >= this.batchSize) await this.flush(entity);
  }

  async flush(entity: E): Promise<void> {
    const buffer = this.#buffers.get(entity);
    if (buffer === undefined || buffer.size === 0) return;
    this.#buffers.delete(entity);
    const fresh = await this.#markSeen(entity, 'ok', [...buffer.keys()]);
    const rows = [...buffer].filter(([k]) => fresh.has(k)).map(([, row]) => row);
    const outcome = this.result.outcomes[entity];
    outcome.duplicate += buffer.size - rows.length;
    if (rows.length === 0) return;
    const counts = await recordInstruments(this.conn, entity, rows as never, this.result.at, this.result.runId);
    outcome.inserted += counts.inserted;
    outcome.changed += counts.changed;
    outcome.unchanged += counts.unchanged;
  }

  async flushAll(): Promise<void> {
    for (const entity of [...this.#buffers.keys()]) await this.flush(entity);
  }

  /** Close every instrument of `entities` open at the sync instant whose key this sync never saw. */
  async delistUnseen(entities: readonly E[]): Promise<void> {
    for (const entity of entities) {
      const spec = SECMASTER[entity];
      const key = sql.ref(`t.${spec.key[0]}`);
      let after = '';
      for (;;) {
        const page = await sql<{ key: string }>`SELECT ${key} AS key FROM ${sql.table(spec.table)} t
          WHERE t.valid_to IS NULL AND t.valid_from < ${this.result.at} AND ${key} > ${after}
            AND NOT EXISTS (SELECT 1 FROM ${SEEN} s WHERE s.entity = ${entity} AND s.key = ${key})
          ORDER BY ${key} LIMIT ${DEFAULT_BATCH_SIZE}`.execute(this.conn);
        for (const { key: k } of page.rows) {
          if (await delistInstrument(this.conn, entity, k, this.result.at)) this.result.outcomes[entity].delisted += 1;
        }
        const last = page.rows.at(-1);
        if (last === undefined || page.rows.length < DEFAULT_BATCH_SIZE) break;
        after = last.key;
      }
    }
  }

  /** Record keys as seen; returns those that were not seen before with this kind. */
  async #markSeen(entity: E, kind: 'ok' | 'invalid', keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const values = sql.join(keys.map((k) => sql`(${entity}, ${kind}, ${k})`));
    const res = await sql<{ key: string }>`INSERT INTO ${SEEN} (entity, kind, key) VALUES ${values} ON CONFLICT DO NOTHING RETURNING key`.execute(this.conn);
    return new Set(res.rows.map((r) => r.key));
  }
}

export interface SyncSpec<E extends SecmasterEntity> {
  feed: string;
  entities: readonly E[];
  full: boolean;
  options: SyncOptions;
  /** What the run records as its parameters (no secrets). */
  params: Record<string, unknown>;
}

/**
 * Run one secmaster sync: a `secmaster-sync` run for `feed`, one instant `at` for every row, `body` feeding the
 * sink, then (full syncs only, and only when everything was fetched) delisting of what was not returned.
 *
 * The catalog connection is held for the whole sync (the seen-keys temp table is per session). On PGlite, which
 * has one connection, other catalog users in the process wait until the sync ends.
 *
 * On failure the run is marked failed (cancelled when `signal` aborted) and a SecmasterSyncError is thrown.
 * Batches already written stay: each row is a true observation of the venue at `at`, and the next sync continues
 * from them. Rows still buffered are dropped, and nothing is delisted, because an incomplete fetch cannot tell a
 * missing instrument from one not reached yet.
 */
export async function runInstrumentSync<E extends SecmasterEntity>(
  db: Kysely<Database>, spec: SyncSpec<E>, body: (sink: InstrumentSink<E>) => Promise<void>,
): Promise<SyncResult<E>> {
  const o = spec.options;
  const at = new Date(o.clock.now());
  const run = await startRun(db, { kind: 'secmaster-sync', codeVersion: o.codeVersion ?? 'dev', feed: spec.feed, params: { ...spec.params, full: spec.full, at: at.toISOString() } });
  const result: SyncResult<E> = {
    runId: run.id, feed: spec.feed, at, full: spec.full,
    fetched: Object.fromEntries(spec.entities.map((e) => [e, 0])) as Record<E, number>,
    outcomes: Object.fromEntries(spec.entities.map((e) => [e, { inserted: 0, changed: 0, unchanged: 0, delisted: 0, invalid: 0, duplicate: 0 }])) as Record<E, EntityOutcome>,
    invalid: { count: 0, samples: [] },
  };
  try {
    await db.connection().execute(async (conn) => {
      const sink = new InstrumentSink<E>(conn, result, Math.max(1, o.batchSize ?? DEFAULT_BATCH_SIZE));
      await sink.open();
      try {
        await body(sink);
        await sink.flushAll();
        if (spec.full) await sink.delistUnseen(spec.entities);
      } finally {
        await sink.close().catch(() => undefined);
      }
    });
  } catch (err) {
    const cancelled = o.signal?.aborted === true;
    const message = err instanceof Error ? err.message : String(err);
    await finishRun(db, run.id, cancelled ? 'cancelled' : 'failed', message).catch(() => undefined);
    await auditSync(db, o.actor, result, 'error', message).catch(() => undefined);
    throw new SecmasterSyncError(`${spec.feed} secmaster sync ${cancelled ? 'cancelled' : 'failed'} (run ${run.id}): ${message}`, {
      runId: run.id, partial: result as SyncResult, cause: err,
    });
  }
  await finishRun(db, run.id, 'succeeded');
  await auditSync(db, o.actor, result, 'ok');
  return result;
}

async function auditSync<E extends SecmasterEntity>(db: Kysely<Database>, actor: string | undefined, r: SyncResult<E>, outcome: 'ok' | 'error', error?: string): Promise<void> {
  if (actor === undefined) return;
  await audit(db, {
    actor, action: 'secmaster.sync', target: `feed:${r.feed}`, outcome,
    detail: { runId: r.runId, full: r.full, at: r.at.toISOString(), fetched: r.fetched, outcomes: r.outcomes, invalid: r.invalid.count, ...(error === undefined ? {} : { error }) },
  });
}

