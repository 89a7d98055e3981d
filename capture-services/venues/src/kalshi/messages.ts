import { NO_SYMBOL, checkSpec, decodeText, isObject, malformed, parseJson, symbolOf, unknown } from '../classification.js';
import type { Classification, Spec } from '../classification.js';
import { KALSHI } from './config.js';

/**
 * Kalshi WS v2 wire messages (guide/protocols.md §3(a); real frames in capture-services/test/fixtures/real/kalshi_*).
 * Prices come as integer cents and/or 4-dp dollar strings, counts as integers and/or 2-dp `_fp` strings: every
 * numeric field is optional because newer shapes drop the integer forms.
 */

// ---- client → server ------------------------------------------------------------------------------------------

export interface KalshiSubscribeCommand {
  id: number;
  cmd: 'subscribe';
  params: { channels: string[]; market_tickers?: string[]; market_ticker?: string };
}
export interface KalshiUnsubscribeCommand {
  id: number;
  cmd: 'unsubscribe';
  params: { sids: number[] };
}
export interface KalshiUpdateSubscriptionCommand {
  id: number;
  cmd: 'update_subscription';
  params: { sids: number[]; market_tickers: string[]; action: 'add_markets' | 'delete_markets' };
}

// ---- server → client: acks and errors -------------------------------------------------------------------------

/** `msg` is omitted by older servers. */
export interface KalshiSubscribed { type: 'subscribed'; id: number; msg?: { channel: string; sid: number } }
/** Fields at top level (ticker/trade and update_subscription acks). */
export interface KalshiOk { type: 'ok'; id: number; sid?: number; seq?: number; market_tickers?: string[] }
export interface KalshiUnsubscribed { type: 'unsubscribed'; id: number; sid: number; seq?: number }
/** Codes: 2 invalid parameters, 6 already subscribed, 7 not subscribed, 10 authentication required (1–22). */
export interface KalshiErrorMessage { type: 'error'; id?: number; msg: { code: number; msg: string } }

// ---- server → client: data ------------------------------------------------------------------------------------

/** `{type, sid, seq?, msg}`; `seq` counts per sid on trade and orderbook messages only. */
export interface KalshiEnvelope<T extends string, M> { type: T; sid: number; seq?: number; msg: M }

export interface KalshiTickerMsg {
  market_ticker: string; market_id?: string;
  price?: number; yes_bid?: number; yes_ask?: number;
  price_dollars?: string; yes_bid_dollars?: string; yes_ask_dollars?: string;
  volume?: number; volume_fp?: string; open_interest?: number; open_interest_fp?: string;
  dollar_volume?: number; dollar_open_interest?: number;
  yes_bid_size_fp?: string; yes_ask_size_fp?: string; last_trade_size_fp?: string;
  /** Epoch seconds. */ ts?: number; ts_ms?: number; time?: string; Clock?: number;
}
export interface KalshiTradeMsg {
  trade_id?: string; market_ticker: string;
  yes_price?: number; no_price?: number; yes_price_dollars?: string; no_price_dollars?: string;
  count?: number; count_fp?: string; taker_side?: 'yes' | 'no'; ts?: number;
  /** Legacy aliases of yes_price / taker_side. */ price?: number; side?: 'yes' | 'no';
}
export interface KalshiOrderbookSnapshotMsg {
  market_ticker: string; market_id?: string;
  yes?: Array<[number, number]>; no?: Array<[number, number]>;
  yes_dollars?: Array<[string, number]>; no_dollars?: Array<[string, number]>;
}
export interface KalshiOrderbookDeltaMsg {
  market_ticker: string; market_id?: string; price?: number; price_dollars?: string;
  delta?: number; delta_fp?: string; side: 'yes' | 'no'; client_order_id?: string; ts?: string;
}
export interface KalshiMarketLifecycleMsg {
  market_ticker?: string; event_ticker?: string;
  event_type?: 'created' | 'activated' | 'deactivated' | 'close_date_updated' | 'metadata_updated' | 'closed' | 'determined' | 'settled';
  open_ts?: number; close_ts?: number; determination_ts?: number; settled_ts?: number;
  result?: 'yes' | 'no' | 'void'; settlement_value?: number | string; is_deactivated?: boolean;
  additional_metadata?: Record<string, unknown>;
}
export interface KalshiEventLifecycleMsg {
  event_ticker: string; title?: string; sub_title?: string; collateral_return_type?: string;
  series_ticker?: string; strike_date?: number; strike_period?: string;
}

export type KalshiMessage =
  | KalshiSubscribed | KalshiOk | KalshiUnsubscribed | KalshiErrorMessage
  | KalshiEnvelope<'ticker', KalshiTickerMsg> | KalshiEnvelope<'trade', KalshiTradeMsg>
  | KalshiEnvelope<'orderbook_snapshot', KalshiOrderbookSnapshotMsg> | KalshiEnvelope<'orderbook_delta', KalshiOrderbookDeltaMsg>
  | KalshiEnvelope<'market_lifecycle_v2', KalshiMarketLifecycleMsg> | KalshiEnvelope<'event_lifecycle', KalshiEventLifecycleMsg>;

// ---- classification -------------------------------------------------------------------------------------------

/** Field types of each data message's `msg` (extra fields are fine; a listed field of the wrong type is not). */
const DATA: Readonly<Record<string, Spec>> = {
  ticker: {
    market_ticker: 's!', market_id: 's', price: 'n', yes_bid: 'n', yes_ask: 'n', no_bid: 'n', no_ask: 'n', price_dollars: 's',
    yes_bid_dollars: 's', yes_ask_dollars: 's', volume: 'n', volume_fp: 's', open_interest: 'n', open_interest_fp: 's',
    dollar_volume: 'n', dollar_open_interest: 'n', yes_bid_size_fp: 's', yes_ask_size_fp: 's', last_trade_size_fp: 's',
    ts: 'n', ts_ms: 'n', time: 's', Clock: 'n',
  },
  trade: {
    trade_id: 's', market_ticker: 's!', yes_price: 'n', no_price: 'n', yes_price_dollars: 's', no_price_dollars: 's',
    count: 'n', count_fp: 's', taker_side: 's', ts: 'n', price: 'n', side: 's',
  },
  orderbook_snapshot: { market_ticker: 's!', market_id: 's', yes: 'a', no: 'a', yes_dollars: 'a', no_dollars: 'a' },
  orderbook_delta: {
    market_ticker: 's!', market_id: 's', price: 'n', price_dollars: 's', delta: 'n', delta_fp: 's', side: 's',
    client_order_id: 's', ts: 'sn',
  },
  market_lifecycle_v2: {
    market_ticker: 's', event_ticker: 's', event_type: 's', open_ts: 'n', close_ts: 'n', determination_ts: 'n',
    settled_ts: 'n', result: 's', settlement_value: 'sn', is_deactivated: 'b', additional_metadata: 'o',
  },
  event_lifecycle: {
    event_ticker: 's!', title: 's', sub_title: 's', collateral_return_type: 's', series_ticker: 's', strike_date: 'n',
    strike_period: 's',
  },
  // Private channels (fill, user_orders → user_order, market_positions): shapes not in protocols.md, not checked.
  fill: {},
  user_order: {},
  market_position: {},
};

const CONTROL: Readonly<Record<string, Spec>> = {
  subscribed: { id: 'n', msg: 'o' },
  ok: { id: 'n', sid: 'n', seq: 'n', market_tickers: 'a' },
  unsubscribed: { id: 'n', sid: 'n', seq: 'n' },
};

/** Classify one Kalshi frame. Never throws. */
export function classify(bytes: Uint8Array): Classification {
  const text = decodeText(bytes, KALSHI.maxFrameBytes);
  if (typeof text !== 'string') return text;
  const parsed = parseJson(text);
  if (!('value' in parsed)) return parsed;
  const m = parsed.value;
  if (!isObject(m)) return unknown('not a JSON object');
  const type = m.type;
  if (typeof type !== 'string') return unknown('no string `type`');
  const env = checkSpec(m, { sid: 'n', seq: 'n', id: 'n' });
  if (env !== undefined) return malformed(`${type}: ${env}`);

  const control = CONTROL[type];
  if (control !== undefined) {
    const bad = checkSpec(m, control) ?? (isObject(m.msg) ? checkSpec(m.msg, { channel: 's', sid: 'n' }, 'msg.') : undefined);
    return bad === undefined ? { kind: 'control', type, symbol: NO_SYMBOL } : malformed(`${type}: ${bad}`);
  }
  if (type === 'error') {
    const bad = isObject(m.msg) ? checkSpec(m.msg, { code: 'n', msg: 's' }, 'msg.') : undefined;
    return bad === undefined ? { kind: 'error', type, symbol: NO_SYMBOL } : malformed(`error: ${bad}`);
  }
  const spec = DATA[type];
  if (spec === undefined) return unknown(`type ${JSON.stringify(type).slice(0, 60)}`);
  const msg = m.msg;
  if (msg === undefined) return unknown(`${type} without msg`); // e.g. Kraken Futures' {"type":"fill",...}
  if (!isObject(msg)) return malformed(`${type}: msg should be an object`);
  const bad = checkSpec(msg, spec, 'msg.');
  if (bad !== undefined) return malformed(`${type}: ${bad}`);
  const symbol = symbolOf(msg.market_ticker, msg.event_ticker, msg.ticker);
  if (type === 'market_lifecycle_v2' && symbol === NO_SYMBOL) return malformed(`${type}: msg has no market_ticker or event_ticker`);
  const c: Classification = { kind: 'data', type, symbol };
  if (typeof m.sid === 'number' && typeof m.seq === 'number') c.exSeq = { sid: m.sid, seq: m.seq };
  return c;
}
