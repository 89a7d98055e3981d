import { afterAll, beforeAll, beforeEach, describe } from 'vitest';
import { sql } from 'kysely';
import { openCatalog, type Catalog } from '../src/db/connect.js';
import { startPostgres } from '../../test/harness/postgres.js';

/**
 * Runs the same suite on both catalog databases: a throwaway database on the real Postgres server
 * and an in-memory PGlite, each with the real migrations, truncated before every test.
 */
export function describeOnBothCatalogs(title: string, suite: (get: () => Catalog) => void): void {
  for (const kind of ['postgres', 'pglite'] as const) {
    describe(`${title} [${kind}]`, () => {
      let catalog: Catalog;
      let stop: (() => Promise<void>) | undefined;
      beforeAll(async () => {
        if (kind === 'postgres') {
          const pg = await startPostgres();
          stop = pg.stop;
          catalog = await openCatalog(pg.url);
        } else {
          catalog = await openCatalog('pglite:memory');
        }
      });
      afterAll(async () => {
        await catalog?.close();
        await stop?.();
      });
      beforeEach(async () => {
        await truncateAll(catalog);
      });
      suite(() => catalog);
    });
  }
}

/** Empty every catalog table (not the migration bookkeeping). */
export async function truncateAll(catalog: Catalog): Promise<void> {
  const res = await sql<{ tablename: string }>`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'kysely_%'`.execute(catalog.db);
  const tables = res.rows.map((r) => `"${r.tablename}"`).join(', ');
  if (tables) await sql.raw(`TRUNCATE ${tables} RESTART IDENTITY CASCADE`).execute(catalog.db);
}
