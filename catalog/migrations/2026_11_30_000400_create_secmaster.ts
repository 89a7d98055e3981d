import { sql, type Kysely } from 'kysely';

// The securities master per venue as time series (M1). Each row is one version of one
// instrument's reference data, in force over [valid_from, valid_to). Rows are appended; the only
// change ever made to a row is closing it (setting valid_to) when a changed version is appended.
// At most one open row per key. Volatile market state (prices, volume) is not reference data and
// is not stored here. run_id links a row to the sync run that observed it (provenance).
const COMMON = `valid_from timestamptz NOT NULL,
     valid_to    timestamptz,
     recorded_at timestamptz NOT NULL DEFAULT now(),
     run_id      text,
     CHECK (valid_to IS NULL OR valid_to > valid_from)`;

const TABLES: Array<[table: string, key: string, columns: string]> = [
  ['kalshi_series', 'ticker', `ticker text NOT NULL, title text, category text, frequency text, tags jsonb, fee_type text, fee_multiplier numeric, settlement_sources jsonb`],
  ['kalshi_events', 'event_ticker', `event_ticker text NOT NULL, series_ticker text, title text, sub_title text, category text, mutually_exclusive boolean, strike_date timestamptz, strike_period text`],
  ['kalshi_markets', 'ticker', `ticker text NOT NULL, event_ticker text, series_ticker text, title text, subtitle text, yes_sub_title text, no_sub_title text, status text, market_type text, open_time timestamptz, close_time timestamptz, expected_expiration_time timestamptz, strike_type text, floor_strike numeric, cap_strike numeric, tick_size numeric, price_units text, can_close_early boolean, result text`],
  ['polymarket_events', 'event_id', `event_id text NOT NULL, slug text, title text, category text, tags jsonb, active boolean, closed boolean, neg_risk boolean, start_date timestamptz, end_date timestamptz`],
  ['polymarket_conditions', 'condition_id', `condition_id text NOT NULL, event_id text, question_id text, question text, slug text, status text, neg_risk boolean, tick_size numeric, min_order_size numeric, outcomes jsonb, token_ids jsonb, end_date timestamptz, winning_outcome text`],
  ['polymarket_tokens', 'token_id', `token_id text NOT NULL, condition_id text, outcome text, outcome_index integer, status text`],
  ['kraken_pairs', 'symbol', `symbol text NOT NULL, pair_key text, altname text, wsname text, base text, quote text, status text, pair_decimals integer, lot_decimals integer, cost_decimals integer, tick_size numeric, ordermin numeric, costmin numeric`],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [table, key, columns] of TABLES) {
    await sql.raw(`CREATE TABLE ${table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ${columns}, ${COMMON})`).execute(db);
    await sql.raw(`CREATE UNIQUE INDEX ${table}_one_open ON ${table} (${key}) WHERE valid_to IS NULL`).execute(db);
    await sql.raw(`CREATE INDEX ${table}_asof ON ${table} (${key}, valid_from)`).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [table] of [...TABLES].reverse()) await sql.raw(`DROP TABLE ${table}`).execute(db);
}
