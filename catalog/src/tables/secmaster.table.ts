import type { Generated } from 'kysely';

/** Columns every secmaster time-series table has. */
export interface VersionedColumns {
  id: Generated<number>;
  valid_from: Date;
  valid_to: Date | null;
  recorded_at: Generated<Date>;
  run_id: string | null;
}

type Ts = Date | null;
type Num = string | null; // numeric columns come back as exact text

export interface KalshiSeriesTable extends VersionedColumns {
  ticker: string; title: string | null; category: string | null; frequency: string | null;
  tags: unknown; fee_type: string | null; fee_multiplier: Num; settlement_sources: unknown;
}
export interface KalshiEventsTable extends VersionedColumns {
  event_ticker: string; series_ticker: string | null; title: string | null; sub_title: string | null;
  category: string | null; mutually_exclusive: boolean | null; strike_date: Ts; strike_period: string | null;
}
export interface KalshiMarketsTable extends VersionedColumns {
  ticker: string; event_ticker: string | null; series_ticker: string | null; title: string | null;
  subtitle: string | null; yes_sub_title: string | null; no_sub_title: string | null; status: string | null;
  market_type: string | null; open_time: Ts; close_time: Ts; expected_expiration_time: Ts;
  strike_type: string | null; floor_strike: Num; cap_strike: Num; tick_size: Num; price_units: string | null;
  can_close_early: boolean | null; result: string | null;
}
export interface PolymarketEventsTable extends VersionedColumns {
  event_id: string; slug: string | null; title: string | null; category: string | null; tags: unknown;
  active: boolean | null; closed: boolean | null; neg_risk: boolean | null; start_date: Ts; end_date: Ts;
}
export interface PolymarketConditionsTable extends VersionedColumns {
  condition_id: string; event_id: string | null; question_id: string | null; question: string | null;
  slug: string | null; status: string | null; neg_risk: boolean | null; tick_size: Num; min_order_size: Num;
  outcomes: unknown; token_ids: unknown; end_date: Ts; winning_outcome: string | null;
}
export interface PolymarketTokensTable extends VersionedColumns {
  token_id: string; condition_id: string | null; outcome: string | null; outcome_index: number | null; status: string | null;
}
export interface KrakenPairsTable extends VersionedColumns {
  symbol: string; pair_key: string | null; altname: string | null; wsname: string | null; base: string | null;
  quote: string | null; status: string | null; pair_decimals: number | null; lot_decimals: number | null;
  cost_decimals: number | null; tick_size: Num; ordermin: Num; costmin: Num;
}

export interface SecmasterTables {
  kalshi_series: KalshiSeriesTable;
  kalshi_events: KalshiEventsTable;
  kalshi_markets: KalshiMarketsTable;
  polymarket_events: PolymarketEventsTable;
  polymarket_conditions: PolymarketConditionsTable;
  polymarket_tokens: PolymarketTokensTable;
  kraken_pairs: KrakenPairsTable;
}
