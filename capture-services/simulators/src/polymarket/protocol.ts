/**
 * Polymarket CLOB market channel and Gamma REST wire facts, as named builders (guide/protocols.md §3(b); real
 * frames in shared/fixtures/real/polymarket_*.jsonl). Prices and sizes are decimal strings; `timestamp` is
 * epoch ms as a string. Key order follows the real captures (alphabetical for `book` and `last_trade_price`).
 */

export const WS_PATH = '/ws/market';
export const REST_BASE = '';
export const MAX_ASSETS_PER_CONNECTION = 500;
export const PING = 'PING';
export const PONG = 'PONG';
/** Gamma page size cap (protocols.md: at most 100 per page). Larger `limit`s are clamped (our choice). */
export const GAMMA_MAX_LIMIT = 100;

/**
 * Close code and reason when a connection asks for more than 500 assets. protocols.md gives the limit, not the
 * server's answer: we close with 1008 (policy violation).
 */
export const TOO_MANY_ASSETS = { code: 1008, reason: 'too many assets: at most 500 per connection' } as const;
/** Text answer to a message that is neither `PING` nor a valid subscribe/unsubscribe (not in protocols.md). */
export const INVALID_OPERATION = 'INVALID OPERATION';

export interface Level {
  price: string;
  size: string;
}

/** Thousandths of a dollar (`460` → `"0.46"`, `1` → `"0.001"`), trailing zeros trimmed as on the wire. */
export function price(mils: number): string {
  return trimZeros((mils / 1000).toFixed(3));
}

/** Hundredths (`622590` → `"6225.9"`, `85000` → `"850"`). */
export function size(hundredths: number): string {
  return trimZeros((hundredths / 100).toFixed(2));
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export interface BookFields {
  assetId: string;
  market: string;
  /** Best level last: bids ascend, asks descend (observed ordering). */
  bids: Level[];
  asks: Level[];
  hash: string;
  lastTradePrice: string;
  tickSize: string;
  timestamp: number;
  /** Some real initial snapshots lack `event_type` (protocols.md). */
  withEventType: boolean;
}

export function bookObject(b: BookFields): string {
  const levels = (ls: Level[]): string => JSON.stringify(ls);
  const eventType = b.withEventType ? `"event_type":"book",` : '';
  return `{"asks":${levels(b.asks)},"asset_id":"${b.assetId}","bids":${levels(b.bids)},${eventType}"hash":"${b.hash}","last_trade_price":"${b.lastTradePrice}","market":"${b.market}","tick_size":"${b.tickSize}","timestamp":"${b.timestamp}"}`;
}

/** Frames may be a JSON array of objects (initial snapshots and bursts). */
export function arrayFrame(objects: readonly string[]): string {
  return `[${objects.join(',')}]`;
}

export interface PriceChangeEntry {
  asset_id: string;
  price: string;
  size: string;
  side: 'BUY' | 'SELL';
  hash: string;
  best_bid: string;
  best_ask: string;
}

/** Current format: `price_changes[]`, no top-level asset_id, one message may carry both tokens. */
export function priceChange(market: string, changes: readonly PriceChangeEntry[], timestamp: number): string {
  return JSON.stringify({ market, price_changes: changes, timestamp: String(timestamp), event_type: 'price_change' });
}

/**
 * Legacy format (before the `price_changes` change): one asset per message with `changes[{price, side, size}]`.
 * protocols.md documents only the current format; this one is from Polymarket's earlier public docs.
 */
export function priceChangeLegacy(market: string, assetId: string, changes: ReadonlyArray<{ price: string; side: 'BUY' | 'SELL'; size: string }>, hash: string, timestamp: number): string {
  return JSON.stringify({ asset_id: assetId, changes, event_type: 'price_change', hash, market, timestamp: String(timestamp) });
}

export function lastTradePrice(t: { assetId: string; market: string; price: string; side: 'BUY' | 'SELL'; size: string; timestamp: number; txHash: string }): string {
  return `{"asset_id":"${t.assetId}","event_type":"last_trade_price","fee_rate_bps":"0","market":"${t.market}","price":"${t.price}","side":"${t.side}","size":"${t.size}","timestamp":"${t.timestamp}","transaction_hash":"${t.txHash}"}`;
}

export function bestBidAsk(market: string, assetId: string, bestBid: number, bestAsk: number, timestamp: number): string {
  return JSON.stringify({
    event_type: 'best_bid_ask', market, asset_id: assetId, best_bid: price(bestBid), best_ask: price(bestAsk),
    spread: price(Math.max(0, bestAsk - bestBid)), timestamp: String(timestamp),
  });
}

export function tickSizeChange(market: string, assetId: string, oldTick: string, newTick: string, side: 'BUY' | 'SELL', timestamp: number): string {
  return JSON.stringify({ event_type: 'tick_size_change', asset_id: assetId, market, old_tick_size: oldTick, new_tick_size: newTick, side, timestamp: String(timestamp) });
}

export function newMarket(m: { market: string; question: string; slug: string; assetsIds: string[]; outcomes: string[]; timestamp: number }): string {
  return JSON.stringify({
    event_type: 'new_market', market: m.market, question: m.question, slug: m.slug, assets_ids: m.assetsIds, outcomes: m.outcomes,
    timestamp: String(m.timestamp),
  });
}

export function marketResolved(market: string, winningAssetId: string, winningOutcome: string, timestamp: number): string {
  return JSON.stringify({ event_type: 'market_resolved', market, winning_asset_id: winningAssetId, winning_outcome: winningOutcome, timestamp: String(timestamp) });
}
