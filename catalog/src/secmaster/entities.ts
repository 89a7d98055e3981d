import type { VersionedSpec } from '../timeseries/timeseries.js';

/**
 * The secmaster entities per venue and the columns that make a new version. Mirrors the
 * `2026_11_30_000400_create_secmaster` migration (migrations never import app code, so the column
 * list is written twice; `secmaster.test.ts` checks the two agree).
 */
export const SECMASTER = {
  kalshi_series: {
    table: 'kalshi_series', key: ['ticker'], runId: true,
    columns: { title: 'text', category: 'text', frequency: 'text', tags: 'jsonb', fee_type: 'text', fee_multiplier: 'numeric', settlement_sources: 'jsonb' },
  },
  kalshi_events: {
    table: 'kalshi_events', key: ['event_ticker'], runId: true,
    columns: { series_ticker: 'text', title: 'text', sub_title: 'text', category: 'text', mutually_exclusive: 'boolean', strike_date: 'timestamptz', strike_period: 'text' },
  },
  kalshi_markets: {
    table: 'kalshi_markets', key: ['ticker'], runId: true,
    columns: {
      event_ticker: 'text', series_ticker: 'text', title: 'text', subtitle: 'text', yes_sub_title: 'text', no_sub_title: 'text',
      status: 'text', market_type: 'text', open_time: 'timestamptz', close_time: 'timestamptz', expected_expiration_time: 'timestamptz',
      strike_type: 'text', floor_strike: 'numeric', cap_strike: 'numeric', tick_size: 'numeric', price_units: 'text', can_close_early: 'boolean', result: 'text',
    },
  },
  polymarket_events: {
    table: 'polymarket_events', key: ['event_id'], runId: true,
    columns: { slug: 'text', title: 'text', category: 'text', tags: 'jsonb', active: 'boolean', closed: 'boolean', neg_risk: 'boolean', start_date: 'timestamptz', end_date: 'timestamptz' },
  },
  polymarket_conditions: {
    table: 'polymarket_conditions', key: ['condition_id'], runId: true,
    columns: {
      event_id: 'text', question_id: 'text', question: 'text', slug: 'text', status: 'text', neg_risk: 'boolean', tick_size: 'numeric',
      min_order_size: 'numeric', outcomes: 'jsonb', token_ids: 'jsonb', end_date: 'timestamptz', winning_outcome: 'text',
    },
  },
  polymarket_tokens: {
    table: 'polymarket_tokens', key: ['token_id'], runId: true,
    columns: { condition_id: 'text', outcome: 'text', outcome_index: 'integer', status: 'text' },
  },
  kraken_pairs: {
    table: 'kraken_pairs', key: ['symbol'], runId: true,
    columns: {
      pair_key: 'text', altname: 'text', wsname: 'text', base: 'text', quote: 'text', status: 'text', pair_decimals: 'integer',
      lot_decimals: 'integer', cost_decimals: 'integer', tick_size: 'numeric', ordermin: 'numeric', costmin: 'numeric',
    },
  },
} as const satisfies Record<string, VersionedSpec>;

export type SecmasterEntity = keyof typeof SECMASTER;
export const SECMASTER_ENTITIES = Object.keys(SECMASTER) as SecmasterEntity[];
