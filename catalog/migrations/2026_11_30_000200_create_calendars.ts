import { sql, type Kysely } from 'kysely';

// Calendars and day definitions (M1, M3), both time series over [valid_from, valid_to).
// A calendar says which days trade (weekdays minus holidays); a day definition says when an
// environment's day starts and ends in its time zone and which calendar it follows.
const UP = [
  `CREATE TABLE calendars (
     id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     name        text NOT NULL,
     weekdays    text[] NOT NULL,
     holidays    date[] NOT NULL DEFAULT '{}',
     valid_from  timestamptz NOT NULL,
     valid_to    timestamptz,
     recorded_at timestamptz NOT NULL DEFAULT now(),
     CHECK (valid_to IS NULL OR valid_to > valid_from)
   )`,
  `CREATE UNIQUE INDEX calendars_one_open ON calendars (name) WHERE valid_to IS NULL`,
  `CREATE INDEX calendars_asof ON calendars (name, valid_from)`,
  `CREATE TABLE day_definitions (
     id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     environment text NOT NULL,
     timezone    text NOT NULL,
     start_time  text NOT NULL CHECK (start_time ~ '^[0-2][0-9]:[0-5][0-9]$'),
     end_time    text NOT NULL CHECK (end_time ~ '^[0-2][0-9]:[0-5][0-9]$'),
     overnight   boolean NOT NULL DEFAULT false,
     calendar    text NOT NULL,
     valid_from  timestamptz NOT NULL,
     valid_to    timestamptz,
     recorded_at timestamptz NOT NULL DEFAULT now(),
     CHECK (valid_to IS NULL OR valid_to > valid_from),
     CHECK (overnight OR end_time > start_time),
     CHECK (end_time <> start_time)
   )`,
  `CREATE UNIQUE INDEX day_definitions_one_open ON day_definitions (environment) WHERE valid_to IS NULL`,
  `CREATE INDEX day_definitions_asof ON day_definitions (environment, valid_from)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['day_definitions', 'calendars']) await sql.raw(`DROP TABLE ${t}`).execute(db);
}
