import { sql, type Kysely } from 'kysely';

// Key store and audit log (M10, M19).
// secrets: every version (non-secret attributes such as a Kalshi key id ride along in clear) of every named secret, encrypted with AES-256-GCM under its own data key
// (DEK); the DEK is wrapped by the master key (KEK) identified by kek_id. Rotating the master key
// re-wraps DEKs only. Plaintext never reaches this database.
// api_keys: client keys with scopes; only a SHA-256 of the random secret is stored.
// audit_log: append-only; UPDATE is refused by a trigger, DELETE is left to the retention job.
const UP = [
  `CREATE TABLE secrets (
     id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     name        text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
     version     integer NOT NULL CHECK (version > 0),
     kind        text NOT NULL,
     ciphertext  bytea NOT NULL,
     iv          bytea NOT NULL,
     tag         bytea NOT NULL,
     wrapped_dek bytea NOT NULL,
     dek_iv      bytea NOT NULL,
     dek_tag     bytea NOT NULL,
     kek_id      text NOT NULL,
     byte_length integer NOT NULL,
     attributes  jsonb NOT NULL DEFAULT '{}',
     status      text NOT NULL CHECK (status IN ('active','retired','revoked')),
     created_by  text NOT NULL,
     created_at  timestamptz NOT NULL DEFAULT now(),
     retired_at  timestamptz,
     UNIQUE (name, version)
   )`,
  `CREATE UNIQUE INDEX secrets_one_active ON secrets (name) WHERE status = 'active'`,
  `CREATE TABLE api_keys (
     id           text PRIMARY KEY CHECK (id ~ '^[a-z0-9]{12}$'),
     name         text NOT NULL,
     scopes       text[] NOT NULL,
     secret_hash  text NOT NULL CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
     created_by   text NOT NULL,
     created_at   timestamptz NOT NULL DEFAULT now(),
     expires_at   timestamptz,
     revoked_at   timestamptz,
     last_used_at timestamptz
   )`,
  `CREATE TABLE audit_log (
     id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     at      timestamptz NOT NULL DEFAULT now(),
     actor   text NOT NULL,
     action  text NOT NULL,
     target  text NOT NULL,
     outcome text NOT NULL CHECK (outcome IN ('ok','denied','error')),
     detail  jsonb NOT NULL DEFAULT '{}'
   )`,
  `CREATE INDEX audit_log_at ON audit_log (at)`,
  `CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`,
  `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw('DROP TABLE audit_log').execute(db);
  await sql.raw('DROP FUNCTION audit_log_append_only').execute(db);
  for (const t of ['api_keys', 'secrets']) await sql.raw(`DROP TABLE ${t}`).execute(db);
}
