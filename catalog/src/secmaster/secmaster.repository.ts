import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { SecmasterTables } from '../tables/secmaster.table.js';
import { asOf, history, upsertVersions, closeVersion, type UpsertOutcome } from '../timeseries/timeseries.js';
import { SECMASTER, type SecmasterEntity } from './entities.js';

type Attributes<E extends SecmasterEntity> = Omit<SecmasterTables[E], 'id' | 'valid_from' | 'valid_to' | 'recorded_at' | 'run_id'>;
type Version<E extends SecmasterEntity> = Omit<SecmasterTables[E], 'id' | 'recorded_at'> & { id: number; recorded_at: Date };

/** Record the observed state of many instruments at `at` (e.g. one REST sync page). */
export function recordInstruments<E extends SecmasterEntity>(
  db: Kysely<Database>, entity: E, rows: ReadonlyArray<Partial<Attributes<E>>>, at: Date, runId?: string,
): Promise<Record<UpsertOutcome, number>> {
  return upsertVersions(db, SECMASTER[entity], rows as ReadonlyArray<Record<string, unknown>>, at, runId);
}

/** The instruments of one entity in force at `at`, optionally one key. */
export function instrumentsAsOf<E extends SecmasterEntity>(db: Kysely<Database>, entity: E, at: Date, key?: string): Promise<Version<E>[]> {
  const spec = SECMASTER[entity];
  return asOf<Version<E>>(db, spec, at, key === undefined ? undefined : { [spec.key[0]]: key });
}

/** Every version of one instrument, oldest first. */
export function instrumentHistory<E extends SecmasterEntity>(db: Kysely<Database>, entity: E, key: string): Promise<Version<E>[]> {
  const spec = SECMASTER[entity];
  return history<Version<E>>(db, spec, { [spec.key[0]]: key });
}

/** Mark an instrument as gone from `at` (delisted / no longer returned by the venue). */
export function delistInstrument(db: Kysely<Database>, entity: SecmasterEntity, key: string, at: Date): Promise<boolean> {
  const spec = SECMASTER[entity];
  return closeVersion(db, spec, { [spec.key[0]]: key }, at);
}
