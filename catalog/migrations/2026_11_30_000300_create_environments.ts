import { sql, type Kysely } from 'kysely';

// Environments (M2): every applied revision of an environment file, with who, when and the
// content hash, plus the feeds each revision assigns (a time series used for sharding later).
const UP = [
  `CREATE TABLE environments (
     name       text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9-]{1,38}[a-z0-9]$'),
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE environment_revisions (
     id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     environment    text NOT NULL REFERENCES environments(name),
     revision       integer NOT NULL CHECK (revision > 0),
     content        text NOT NULL,
     content_sha256 text NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
     spec           jsonb NOT NULL,
     source_file    text NOT NULL,
     applied_by     text NOT NULL,
     applied_at     timestamptz NOT NULL DEFAULT now(),
     UNIQUE (environment, revision)
   )`,
  `CREATE TABLE environment_feeds (
     id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     environment text NOT NULL REFERENCES environments(name),
     feed_name   text NOT NULL,
     venue       text NOT NULL,
     spec        jsonb NOT NULL,
     valid_from  timestamptz NOT NULL,
     valid_to    timestamptz,
     CHECK (valid_to IS NULL OR valid_to > valid_from)
   )`,
  `CREATE UNIQUE INDEX environment_feeds_one_open ON environment_feeds (environment, feed_name) WHERE valid_to IS NULL`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['environment_feeds', 'environment_revisions', 'environments']) await sql.raw(`DROP TABLE ${t}`).execute(db);
}
