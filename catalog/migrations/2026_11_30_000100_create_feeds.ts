import { sql, type Kysely } from 'kysely';

// Feeds and their versions (M1). A feed version is in force over [effective_from, effective_to);
// the open version has effective_to NULL. Versions are appended, never edited, except that the
// previous open version is closed when a new one starts.
const UP = [
  `CREATE TABLE feeds (
     name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9-]{1,62}$'),
     venue       text NOT NULL CHECK (venue IN ('kalshi', 'polymarket', 'kraken')),
     description text NOT NULL DEFAULT '',
     created_at  timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE feed_versions (
     id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     feed              text NOT NULL REFERENCES feeds(name),
     version           integer NOT NULL CHECK (version > 0),
     protocol_version  text NOT NULL,
     endpoints         jsonb NOT NULL,
     channels          text[] NOT NULL,
     capture_locations jsonb NOT NULL DEFAULT '[]',
     effective_from    timestamptz NOT NULL,
     effective_to      timestamptz,
     recorded_at       timestamptz NOT NULL DEFAULT now(),
     UNIQUE (feed, version),
     CHECK (effective_to IS NULL OR effective_to > effective_from)
   )`,
  `CREATE UNIQUE INDEX feed_versions_one_open ON feed_versions (feed) WHERE effective_to IS NULL`,
  `CREATE INDEX feed_versions_asof ON feed_versions (feed, effective_from)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['feed_versions', 'feeds']) await sql.raw(`DROP TABLE ${t}`).execute(db);
}
