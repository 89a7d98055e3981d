import { Migrator, type Kysely, type MigrationResult } from 'kysely';
import { SsmdError } from '../../../core/src/errors.js';
import { MIGRATIONS } from '../../migrations/index.js';

/** Kysely's migrator over the static migration list; its lock makes concurrent starts safe. */
function migrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
}

/** Apply every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResult[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new SsmdError(`catalog migration ${failed} failed: ${(error as Error).message}`, { code: 'MIGRATION_FAILED', cause: error });
  }
  return results ?? [];
}

/** Every known migration with whether it has been applied. */
export async function migrationStatus(db: Kysely<any>): Promise<Array<{ name: string; executedAt: Date | null }>> {
  const list = await migrator(db).getMigrations();
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}
