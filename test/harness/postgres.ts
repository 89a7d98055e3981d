/**
 * A throwaway PostgreSQL database.
 *
 * We do not spawn our own postgres: initdb/postgres refuse to run as root, and the test
 * machines run as root. Instead we create a uniquely named database (`ssmd_test_<random>`) on
 * the already running server at $SSMD_TEST_PG_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres, trust auth) and drop it WITH (FORCE) on stop().
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { registerExitCleanup, waitUntil } from './process.js';

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface PostgresDatabase {
  /** Connection URL of the throwaway database. */
  url: string;
  database: string;
  /** URL of the maintenance database used to create/drop it. */
  adminUrl: string;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Maintenance DB URL (default $SSMD_TEST_PG_URL or DEFAULT_ADMIN_URL). */
  adminUrl?: string;
  /** How long to wait for the server to accept connections (default 30 s). */
  timeoutMs?: number;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

async function withAdmin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresDatabase> {
  const adminUrl = opts.adminUrl ?? process.env.SSMD_TEST_PG_URL ?? DEFAULT_ADMIN_URL;
  const database = `ssmd_test_${randomBytes(6).toString('hex')}`;

  try {
    await waitUntil(
      async () => {
        await withAdmin(adminUrl, async (c) => c.query('SELECT 1'));
        return true;
      },
      { timeoutMs: opts.timeoutMs ?? 30_000, intervalMs: 250, description: `PostgreSQL at ${redact(adminUrl)}` },
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}\nIs PostgreSQL running? Run \`npm run setup\` (it starts the local cluster), ` +
        'or set SSMD_TEST_PG_URL to a server where you may create databases.',
      { cause: err },
    );
  }

  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(database)}`));

  const dropSql = `DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`;
  // If the test process dies before stop(), try to drop the DB synchronously with psql.
  const unregister = registerExitCleanup(() => {
    spawnSync('psql', [adminUrl, '-q', '-c', dropSql], { stdio: 'ignore', timeout: 5_000 });
  });

  const url = new URL(adminUrl);
  url.pathname = `/${database}`;

  let stopPromise: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopPromise ??= (async () => {
      unregister();
      await withAdmin(adminUrl, (c) => c.query(dropSql));
    })();
    return stopPromise;
  };

  return { url: url.toString(), database, adminUrl, stop };
}
