import { NO_SYMBOL, checkEach, checkSpec, decodeText, isObject, malformed, parseJson, symbolOf, unknown } from '../classification.js';
import type { Classification, Spec } from '../classification.js';
import { KRAKEN } from './config.js';

/**
 * Kraken spot WS v2 wire messages (guide/protocols.md §3(c); book and checksum parts from public docs). Prices and
 * quantities are JSON numbers whose exact decimal text the book checksum needs: parse them from the raw bytes, never
 * through `JSON.parse` (the types below say `number` for the shape only). The classifier only reads.
 */

export interface KrakenSubscribeRequest {
  method: 'subscribe' | 'unsubscribe';
  params: { channel: string; symbol: string[]; depth?: number; snapshot?: boolean };
  req_id?: number;
}
export interface KrakenPingRequest { method: 'ping'; req_id?: number }

/** One result per symbol; on failure `success` is false, `error` says why and `result` may be missing or null. */
export interface KrakenMethodResult {
  method: 'subscribe' | 'unsubscribe';
  result?: { channel: string; symbol?: string; depth?: number; snapshot?: boolean } | null;
  success: boolean;
  error?: string;
  symbol?: string;
  req_id?: number;
  time_in?: string;
  time_out?: string;
}
export interface KrakenPong { method: 'pong'; req_id?: number; time_in?: string; time_out?: string }
/** `{"channel":"heartbeat"}`, with or without `"type":"update"`. */
export interface KrakenHeartbeat { channel: 'heartbeat'; type?: 'update' }
export interface KrakenStatus { channel: 'status'; type: string; data: Array<Record<string, unknown>> }

export interface KrakenTicker {
  symbol: string; bid: number; bid_qty: number; ask: number; ask_qty: number; last: number; volume: number;
  vwap: number; low: number; high: number; change: number; change_pct: number;
}
export interface KrakenTrade {
  symbol: string; side: 'buy' | 'sell'; price: number; qty: number; ord_type: 'market' | 'limit';
  trade_id: number | string; timestamp: string;
}
export interface KrakenBookLevel { price: number; qty: number }
/** `qty: 0` deletes a level; `checksum` is CRC32 of the top 10 levels (unsigned). Snapshots may lack `timestamp`. */
export interface KrakenBook { symbol: string; bids: KrakenBookLevel[]; asks: KrakenBookLevel[]; checksum: number; timestamp?: string }

export interface KrakenChannelMessage<C extends string, T> { channel: C; type: 'snapshot' | 'update'; data: T[] }

export type KrakenMessage =
  | KrakenMethodResult | KrakenPong | KrakenHeartbeat | KrakenStatus
  | KrakenChannelMessage<'ticker', KrakenTicker> | KrakenChannelMessage<'trade', KrakenTrade> | KrakenChannelMessage<'book', KrakenBook>;

// ---- classification -------------------------------------------------------------------------------------------

const DATA: Readonly<Record<string, Spec>> = {
  ticker: {
    symbol: 's!', bid: 'n', bid_qty: 'n', ask: 'n', ask_qty: 'n', last: 'n', volume: 'n', vwap: 'n', low: 'n', high: 'n',
    change: 'n', change_pct: 'n',
  },
  trade: { symbol: 's!', side: 's', price: 'n', qty: 'n', ord_type: 's', trade_id: 'sn', timestamp: 's' },
  book: { symbol: 's!', bids: 'a', asks: 'a', checksum: 'n', timestamp: 's' },
};
const LEVEL: Spec = { price: 'n!', qty: 'n!' };
const METHOD: Spec = { req_id: 'n', success: 'b', error: 's', symbol: 's', time_in: 's', time_out: 's', result: 'o' };

function classifyChannel(o: Record<string, unknown>, channel: string): Classification {
  if (channel === 'heartbeat') return { kind: 'heartbeat', type: 'heartbeat', symbol: NO_SYMBOL };
  if (channel === 'status') return { kind: 'control', type: 'status', symbol: NO_SYMBOL };
  const spec = DATA[channel];
  if (spec === undefined) return unknown(`channel ${JSON.stringify(channel).slice(0, 60)}`);
  const bad = checkSpec(o, { type: 's!', data: 'a!' }) ?? checkEach(o.data, spec, 'data');
  if (bad !== undefined) return malformed(`${channel}: ${bad}`);
  const data = o.data as Array<Record<string, unknown>>;
  if (channel === 'book') {
    for (let i = 0; i < data.length; i++) {
      const e = data[i] as Record<string, unknown>;
      const level = checkEach(e.bids, LEVEL, `data[${i}].bids`) ?? checkEach(e.asks, LEVEL, `data[${i}].asks`);
      if (level !== undefined) return malformed(`book: ${level}`);
    }
  }
  return { kind: 'data', type: channel, symbol: symbolOf(data[0]?.symbol) };
}

/**
 * Classify one Kraken spot v2 frame: channel messages by `channel` (heartbeat → heartbeat, status → control, ticker /
 * trade / book → data with the first element's symbol), method replies by `method` (pong → heartbeat, success →
 * control, failure → error). Anything else, Kraken Futures frames included, is unknown. Never throws.
 */
export function classify(bytes: Uint8Array): Classification {
  const text = decodeText(bytes, KRAKEN.maxFrameBytes);
  if (typeof text !== 'string') return text;
  const parsed = parseJson(text);
  if (!('value' in parsed)) return parsed;
  const o = parsed.value;
  if (!isObject(o)) return unknown('not a JSON object');
  if (typeof o.channel === 'string') return classifyChannel(o, o.channel);
  const method = o.method;
  if (method === undefined && o.success !== false) return unknown('neither channel nor method');
  const bad = checkSpec(o, METHOD) ?? (method === undefined || typeof method === 'string' ? undefined : 'method should be s');
  if (bad !== undefined) return malformed(`${String(method)}: ${bad}`);
  const result = isObject(o.result) ? o.result : {};
  if (o.success === false || o.error !== undefined) return { kind: 'error', type: 'error', symbol: symbolOf(o.symbol, result.symbol) };
  if (method === 'pong') return { kind: 'heartbeat', type: 'pong', symbol: NO_SYMBOL };
  if (o.success === true) return { kind: 'control', type: method as string, symbol: symbolOf(result.symbol) };
  return unknown(`method ${JSON.stringify(method).slice(0, 60)}`);
}
