import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresDatabase } from '../harness/postgres.js';

describe('postgres smoke', () => {
  let db: PostgresDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    db = await startPostgres();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  }, 60_000);

  afterAll(async () => {
    await client?.end().catch(() => {});
    await db?.stop();
  });

  it('is connected to the throwaway database', async () => {
    expect(db.database).toMatch(/^ssmd_test_[0-9a-f]+$/);
    const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
    expect(rows[0]?.db).toBe(db.database);
  });

  it('creates a table, inserts and selects back', async () => {
    await client.query(`CREATE TABLE ticks (
      id bigserial PRIMARY KEY,
      symbol text NOT NULL,
      price numeric(18, 6) NOT NULL,
      ts timestamptz NOT NULL DEFAULT now()
    )`);
    await client.query('INSERT INTO ticks (symbol, price) VALUES ($1, $2), ($3, $4), ($5, $6)', [
      'AAPL', '189.25', 'MSFT', '411.5', 'AAPL', '189.3',
    ]);
    const { rows } = await client.query<{ symbol: string; price: string }>(
      'SELECT symbol, price::text AS price FROM ticks WHERE symbol = $1 ORDER BY id',
      ['AAPL'],
    );
    expect(rows).toEqual([
      { symbol: 'AAPL', price: '189.250000' },
      { symbol: 'AAPL', price: '189.300000' },
    ]);
    const count = await client.query<{ n: string }>('SELECT count(*)::text AS n FROM ticks');
    expect(count.rows[0]?.n).toBe('3');
  });

  it('drops the database on stop() (and stop is idempotent)', async () => {
    const extra = await startPostgres();
    const admin = new pg.Client({ connectionString: extra.adminUrl });
    await admin.connect();
    try {
      const exists = async (): Promise<boolean> =>
        (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [extra.database])).rowCount === 1;
      // a lingering connection must not prevent the drop (WITH (FORCE))
      const lingering = new pg.Client({ connectionString: extra.url });
      lingering.on('error', () => {});
      await lingering.connect();
      expect(await exists()).toBe(true);
      await extra.stop();
      await extra.stop();
      expect(await exists()).toBe(false);
      await lingering.end().catch(() => {});
    } finally {
      await admin.end();
    }
  });
});
