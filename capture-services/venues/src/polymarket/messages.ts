import { NO_SYMBOL, checkEach, checkSpec, decodeText, isObject, malformed, parseJson, symbolOf, unknown } from '../classification.js';
import type { Classification, Spec } from '../classification.js';
import { POLYMARKET } from './config.js';

/**
 * Polymarket CLOB market-channel wire messages (guide/protocols.md §3(b); real frames in
 * capture-services/test/fixtures/real/polymarket_*). Prices and sizes are decimal strings; `timestamp` is epoch ms
 * as a string (sometimes a number). Frames are one object or a JSON array of objects. No sequence numbers.
 */

/** Client → server, once after connecting. No ack. */
export interface PolymarketSubscribe {
  assets_ids: string[];
  type: 'market';
  custom_feature_enabled?: boolean;
}
/** Later changes on the same connection (Polymarket public docs; not in protocols.md). */
export interface PolymarketSubscriptionUpdate {
  assets_ids: string[];
  operation: 'subscribe' | 'unsubscribe';
}

export interface PolymarketLevel { price: string; size: string }
type Ts = string | number;

/** Some initial snapshots lack `event_type`; bids ascend and asks descend (best level last). */
export interface PolymarketBook {
  event_type?: 'book'; asset_id: string; market: string; timestamp?: Ts; hash?: string;
  bids?: PolymarketLevel[]; asks?: PolymarketLevel[]; buys?: PolymarketLevel[]; sells?: PolymarketLevel[];
  tick_size?: string; last_trade_price?: string;
}
export interface PolymarketPriceChangeEntry {
  asset_id: string; price: string; size: string; side: 'BUY' | 'SELL'; hash?: string; best_bid?: string; best_ask?: string;
}
/** Current shape: `price_changes[]`, no top-level asset_id. Legacy shape: top-level `asset_id` with `changes[]`. */
export interface PolymarketPriceChange {
  event_type: 'price_change'; market: string; timestamp?: Ts; price_changes?: PolymarketPriceChangeEntry[];
  asset_id?: string; hash?: string; changes?: Array<{ price: string; side: 'BUY' | 'SELL'; size: string }>;
}
export interface PolymarketLastTradePrice {
  event_type: 'last_trade_price'; asset_id: string; market: string; price: string; side: 'BUY' | 'SELL'; size: string;
  fee_rate_bps?: string; timestamp?: Ts; transaction_hash?: string;
}
export interface PolymarketBestBidAsk {
  event_type: 'best_bid_ask'; market: string; asset_id: string; best_bid: string; best_ask: string; spread?: string; timestamp?: Ts;
}
export interface PolymarketTickSizeChange {
  event_type: 'tick_size_change'; asset_id: string; market: string; old_tick_size: string; new_tick_size: string; side?: string; timestamp?: Ts;
}
export interface PolymarketNewMarket {
  event_type: 'new_market'; market: string; question?: string; slug?: string; assets_ids?: string[]; outcomes?: string[]; timestamp?: Ts;
}
export interface PolymarketMarketResolved {
  event_type: 'market_resolved'; market: string; winning_asset_id?: string; winning_outcome?: string; timestamp?: Ts;
}

export type PolymarketMessage =
  | PolymarketBook | PolymarketPriceChange | PolymarketLastTradePrice | PolymarketBestBidAsk
  | PolymarketTickSizeChange | PolymarketNewMarket | PolymarketMarketResolved;

// ---- classification -------------------------------------------------------------------------------------------

const LEVEL: Spec = { price: 's!', size: 's!' };
const SPECS: Readonly<Record<string, Spec>> = {
  book: { asset_id: 's!', market: 's', timestamp: 'sn', hash: 's', bids: 'a', asks: 'a', buys: 'a', sells: 'a', tick_size: 's', last_trade_price: 's' },
  price_change: { market: 's!', timestamp: 'sn', price_changes: 'a', asset_id: 's', hash: 's', changes: 'a' },
  last_trade_price: {
    asset_id: 's!', market: 's', price: 's', side: 's', size: 's', fee_rate_bps: 'sn', timestamp: 'sn', transaction_hash: 's',
  },
  best_bid_ask: { market: 's', asset_id: 's!', best_bid: 's', best_ask: 's', spread: 's', timestamp: 'sn' },
  tick_size_change: { asset_id: 's!', market: 's', old_tick_size: 's', new_tick_size: 's', side: 's', timestamp: 'sn' },
  new_market: { market: 's!', question: 's', slug: 's', assets_ids: 'a', outcomes: 'a', timestamp: 'sn' },
  market_resolved: { market: 's!', winning_asset_id: 's', winning_outcome: 's', timestamp: 'sn' },
};
const ENTRY: Spec = { asset_id: 's!', price: 's', size: 's', side: 's', hash: 's', best_bid: 's', best_ask: 's' };
const LEGACY_CHANGE: Spec = { price: 's', side: 's', size: 's' };

/** One object: its event type and symbol, or why it is not a known message. */
function classifyObject(o: Record<string, unknown>): Classification {
  const eventType = o.event_type;
  let type: string;
  if (eventType === undefined && (o.bids !== undefined || o.asks !== undefined || o.buys !== undefined || o.sells !== undefined)) type = 'book';
  else if (typeof eventType === 'string') type = eventType;
  else return unknown(eventType === undefined ? 'no event_type and no bids/asks' : 'event_type is not a string');
  const spec = SPECS[type];
  if (spec === undefined) return unknown(`event_type ${JSON.stringify(type).slice(0, 60)}`);
  const bad =
    checkSpec(o, spec) ??
    (type === 'book' ? ['bids', 'asks', 'buys', 'sells'].map((k) => checkEach(o[k], LEVEL, k)).find((x) => x !== undefined) : undefined) ??
    (type === 'price_change' ? checkEach(o.price_changes, ENTRY, 'price_changes') ?? checkEach(o.changes, LEGACY_CHANGE, 'changes') : undefined);
  if (bad !== undefined) return malformed(`${type}: ${bad}`);
  const first = Array.isArray(o.price_changes) && isObject(o.price_changes[0]) ? o.price_changes[0].asset_id : undefined;
  // lifecycle events are about a condition (market), the rest about one token (asset_id)
  const symbol = type === 'new_market' || type === 'market_resolved' ? symbolOf(o.market) : symbolOf(o.asset_id, first, o.market);
  return { kind: 'data', type, symbol };
}

/**
 * Classify one Polymarket frame. `PONG` is a heartbeat and `INVALID OPERATION` an error (text frames); an array is
 * classified by its first element, and every element must be well-formed; `[]` is control (`empty`). Never throws.
 */
export function classify(bytes: Uint8Array): Classification {
  const text = decodeText(bytes, POLYMARKET.maxFrameBytes);
  if (typeof text !== 'string') return text;
  const bare = text.trim();
  if (bare === POLYMARKET.pong || bare === POLYMARKET.ping) return { kind: 'heartbeat', type: bare.toLowerCase(), symbol: NO_SYMBOL };
  if (bare === 'INVALID OPERATION') return { kind: 'error', type: 'error', symbol: NO_SYMBOL };
  const parsed = parseJson(text);
  if (!('value' in parsed)) return parsed;
  const v = parsed.value;
  if (isObject(v)) return classifyObject(v);
  if (!Array.isArray(v)) return unknown('neither an object nor an array');
  if (v.length === 0) return { kind: 'control', type: 'empty', symbol: NO_SYMBOL };
  let head: Classification | undefined;
  for (let i = 0; i < v.length; i++) {
    const e: unknown = v[i];
    const c = isObject(e) ? classifyObject(e) : unknown(`element ${i} is not an object`);
    if (c.kind === 'malformed') return { ...c, detail: `[${i}] ${c.detail ?? ''}` };
    head ??= c;
  }
  return head ?? unknown('empty');
}
