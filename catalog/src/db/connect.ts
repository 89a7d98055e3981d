import { mkdir, rm } from 'node:fs/promises';
import { Kysely, PostgresDialect } from 'kysely';
import { ConfigError, SsmdError } from '../../../core/src/errors.js';
import { acquirePidLock } from '../../../core/src/fsutil.js';
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
  let lock: string | undefined;
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
    // PGlite is one process's database: a second process opening the same directory would corrupt
    // it, so the directory is locked to this process until close.
    if (target !== 'memory') {
      await mkdir(target, { recursive: true });
      lock = await acquirePidLock(`${target}.lock`, (pid) => new SsmdError(
        `the embedded catalog ${target} is in use by process ${pid}; stop it first, or use a Postgres catalog (SSMD_CATALOG=postgres://...) for concurrent processes`,
        { code: 'CATALOG_IN_USE' }));
    }
    try {
      const { PGlite } = await import('@electric-sql/pglite');
      const lite = await PGlite.create(target === 'memory' ? undefined : target, { parsers: TYPE_PARSERS });
      db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PGlitePool(lite) }) });
    } catch (err) {
      if (lock) await rm(lock, { force: true });
      throw err;
    }
  }
  const release = lock;
  const catalog: Catalog = {
    db, kind, location: redactUrl(url),
    close: async () => {
      await db.destroy();
      if (release) await rm(release, { force: true });
    },
  };
  if (options.migrate !== false) {
    try {
      await migrateToLatest(db);
    } catch (err) {
      await catalog.close();
      throw err;
    }
  }
  return catalog;
}
