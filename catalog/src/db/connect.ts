import { mkdir } from 'node:fs/promises';
import { Kysely, PostgresDialect } from 'kysely';
import { ConfigError } from '../../../core/src/errors.js';
import type { Database } from '../database.js';
import { PGlitePool } from './pglite-pool.js';
import { TYPE_PARSERS } from './types.js';
import { migrateToLatest } from './migrate.js';

export type CatalogKind = 'postgres' | 'pglite';

/** An open catalog: the typed Kysely handle plus what it runs on. */
export interface Catalog {
  readonly db: Kysely<Database>;
  readonly kind: CatalogKind;
  /** The location without credentials, safe to print. */
  readonly location: string;
  close(): Promise<void>;
}

/**
 * Parse a catalog location: `postgres://…` / `postgresql://…` for a server, `pglite:<dir>` for an
 * embedded database persisted in a directory, `pglite:memory` for a throwaway one.
 */
export function parseCatalogUrl(url: string): { kind: CatalogKind; target: string } {
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', target: url };
  if (url.startsWith('pglite:')) return { kind: 'pglite', target: url.slice('pglite:'.length) || 'memory' };
  throw new ConfigError([
    { file: 'SSMD_CATALOG', path: '', expected: 'postgres://user@host:port/db or pglite:<dir> or pglite:memory', got: JSON.stringify(url) },
  ]);
}

/** Strip a password from a URL before it is shown or logged. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/** Open the catalog and bring its schema to the latest migration. */
export async function openCatalog(url: string, options: { migrate?: boolean } = {}): Promise<Catalog> {
  const { kind, target } = parseCatalogUrl(url);
  let db: Kysely<Database>;
  if (kind === 'postgres') {
    // Drivers load on demand so commands that never touch the catalog start fast.
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      connectionString: target,
      max: 4,
      types: { getTypeParser: ((oid: number, format?: string) => TYPE_PARSERS[oid] ?? pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser },
    });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    if (target !== 'memory') await mkdir(target, { recursive: true });
    const { PGlite } = await import('@electric-sql/pglite');
    const lite = await PGlite.create(target === 'memory' ? undefined : target, { parsers: TYPE_PARSERS });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PGlitePool(lite) }) });
  }
  const catalog: Catalog = { db, kind, location: redactUrl(url), close: () => db.destroy() };
  if (options.migrate !== false) {
    try {
      await migrateToLatest(db);
    } catch (err) {
      await db.destroy();
      throw err;
    }
  }
  return catalog;
}
