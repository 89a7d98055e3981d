import { sql, type Kysely } from 'kysely';

// Job runs, checkpoints, dataset provenance, data-quality findings and per-day status (M11, M15,
// M9). Defined now so later jobs share one shape; every job takes a feed and a UTC date.
const UP = [
  `CREATE TABLE runs (
     id           text PRIMARY KEY,
     kind         text NOT NULL CHECK (kind IN ('capture','archive','normalize','dq','secmaster-sync','compare','day','other')),
     environment  text,
     feed         text,
     day          date,
     status       text NOT NULL CHECK (status IN ('pending','running','succeeded','failed','cancelled')),
     params       jsonb NOT NULL DEFAULT '{}',
     host         text NOT NULL,
     code_version text NOT NULL,
     error        text,
     created_at   timestamptz NOT NULL DEFAULT now(),
     started_at   timestamptz,
     finished_at  timestamptz
   )`,
  `CREATE INDEX runs_by_day ON runs (kind, feed, day)`,
  // One checkpoint per (job, scope): a resumed job reads where it got to, whatever run wrote it.
  `CREATE TABLE checkpoints (
     job        text NOT NULL,
     scope      text NOT NULL,
     position   jsonb NOT NULL,
     run_id     text REFERENCES runs(id),
     updated_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (job, scope)
   )`,
  `CREATE TABLE provenance (
     id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     run_id            text NOT NULL REFERENCES runs(id),
     feed              text NOT NULL,
     dataset           text NOT NULL,
     dataset_version   integer NOT NULL,
     day               date NOT NULL,
     inputs            jsonb NOT NULL,
     outputs           jsonb NOT NULL,
     code_version      text NOT NULL,
     transform_name    text NOT NULL,
     transform_version integer NOT NULL,
     transform_sha256  text NOT NULL,
     secmaster_as_of   timestamptz,
     row_counts        jsonb NOT NULL DEFAULT '{}',
     outcome           text NOT NULL CHECK (outcome IN ('new','unchanged','replaced')),
     host              text NOT NULL,
     started_at        timestamptz NOT NULL,
     finished_at       timestamptz NOT NULL,
     created_at        timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX provenance_by_day ON provenance (feed, dataset, day, dataset_version)`,
  `CREATE TABLE dq_findings (
     id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     fingerprint     text NOT NULL UNIQUE,
     feed            text NOT NULL,
     day             date NOT NULL,
     kind            text NOT NULL,
     severity        text NOT NULL CHECK (severity IN ('info','warning','error')),
     symbols         text[] NOT NULL DEFAULT '{}',
     window_start    timestamptz,
     window_end      timestamptz,
     summary         text NOT NULL,
     detail          jsonb NOT NULL DEFAULT '{}',
     source          text NOT NULL,
     run_id          text REFERENCES runs(id),
     status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open','queued','filed','closed')),
     tracker_id      text,
     tracker_url     text,
     created_at      timestamptz NOT NULL DEFAULT now(),
     updated_at      timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE INDEX dq_findings_by_day ON dq_findings (feed, day)`,
  `CREATE TABLE dq_evidence (
     id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     finding_id bigint NOT NULL REFERENCES dq_findings(id),
     evidence   jsonb NOT NULL,
     added_by   text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE dq_day_status (
     feed        text NOT NULL,
     day         date NOT NULL,
     status      text NOT NULL CHECK (status IN ('available','degraded','missing')),
     score       numeric NOT NULL CHECK (score >= 0 AND score <= 1),
     reasons     jsonb NOT NULL DEFAULT '[]',
     run_id      text REFERENCES runs(id),
     computed_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (feed, day)
   )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['dq_day_status', 'dq_evidence', 'dq_findings', 'provenance', 'checkpoints', 'runs']) await sql.raw(`DROP TABLE ${t}`).execute(db);
}
