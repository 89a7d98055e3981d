import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/**
 * Presents one PGlite instance as a Kysely `PostgresPool` of size one. PGlite is a single
 * connection, so `connect()` waits for the previous holder to `release()`; that keeps a Kysely
 * transaction's statements together, exactly as a real pool connection would.
 */
export class PGlitePool implements PostgresPool {
  #tail: Promise<void> = Promise.resolve();
  constructor(private readonly pg: PGlite) {}

  async connect(): Promise<PostgresPoolClient> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const previous = this.#tail;
    this.#tail = previous.then(() => held);
    await previous;
    const pg = this.pg;
    let released = false;
    const client = {
      async query<R>(sqlText: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
        const res = await pg.query<R>(sqlText, parameters as unknown[]);
        const command = ((res as { command?: string }).command ?? 'SELECT') as PostgresQueryResult<R>['command'];
        return { command, rowCount: res.affectedRows ?? res.rows.length, rows: res.rows };
      },
      release() {
        if (!released) {
          released = true;
          release();
        }
      },
    };
    return client as PostgresPoolClient;
  }

  async end(): Promise<void> {
    await this.#tail;
    await this.pg.close();
  }
}
