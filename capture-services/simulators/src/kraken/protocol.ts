import { crc32 } from 'node:zlib';

/**
 * Kraken spot WS v2 and REST wire facts, as named builders (guide/protocols.md §3(c)). Prices and quantities are
 * written as JSON numbers with the pair's fixed decimals (`0.5660`, `0.50000000`), so frames are built as text:
 * `JSON.stringify` would turn `0.5660` into `0.566` and break the checksum.
 */

export const WS_PATH = '/v2';
export const REST_BASE = '';
export const ASSET_PAIRS_PATH = '/0/public/AssetPairs';
export const BOOK_DEPTHS = [10, 25, 100, 500, 1000] as const;
export const DEFAULT_BOOK_DEPTH = 10;
/** The checksum covers the top 10 levels of each side whatever the subscribed depth. */
export const CHECKSUM_LEVELS = 10;
export const CHANNELS = ['ticker', 'trade', 'book'] as const;
export type KrakenChannel = (typeof CHANNELS)[number];

/**
 * Error texts. protocols.md says only that `success` is false and `result` may be null; the `error` and `symbol`
 * fields follow Kraken's public v2 docs, and the texts below are our choice unless noted.
 */
export const ERRORS = {
  malformed: 'Malformed request',
  unknownMethod: (m: string) => `Method not found: ${m}`,
  unknownChannel: (c: string) => `Channel ${c} not supported`,
  symbolRequired: 'symbol is required',
  unknownSymbol: (s: string) => `Currency pair not supported ${s}`, // Kraken's public wording
  badDepth: (d: unknown) => `Invalid depth ${String(d)}: one of ${BOOK_DEPTHS.join(', ')}`,
  alreadySubscribed: 'Already subscribed',
  notSubscribed: 'Subscription Not Found',
  subscriptionLimit: 'Exceeded subscription limit',
} as const;

/** An integer amount of 10^-decimals units as fixed-decimal text (`5660, 4` → `0.5660`). */
export function fixed(units: number, decimals: number): string {
  const neg = units < 0;
  const digits = String(Math.abs(units));
  if (decimals === 0) return (neg ? '-' : '') + digits;
  const padded = digits.padStart(decimals + 1, '0');
  return `${neg ? '-' : ''}${padded.slice(0, -decimals)}.${padded.slice(-decimals)}`;
}

export interface LevelText {
  price: string;
  qty: string;
}

export function levelsJson(levels: readonly LevelText[]): string {
  let s = '[';
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i] as LevelText;
    s += `${i === 0 ? '' : ','}{"price":${l.price},"qty":${l.qty}}`;
  }
  return `${s}]`;
}

/**
 * CRC32 (IEEE) of the top 10 asks (low → high) then the top 10 bids (high → low), each level as price then qty
 * with the '.' removed and leading zeros stripped (protocols.md checksum algorithm).
 */
export function bookChecksum(asksBestFirst: readonly LevelText[], bidsBestFirst: readonly LevelText[]): number {
  let s = '';
  for (const side of [asksBestFirst, bidsBestFirst]) {
    for (let i = 0; i < Math.min(CHECKSUM_LEVELS, side.length); i++) {
      const l = side[i] as LevelText;
      s += checksumDigits(l.price) + checksumDigits(l.qty);
    }
  }
  return crc32(s) >>> 0;
}

function checksumDigits(decimal: string): string {
  return decimal.replace('.', '').replace(/^0+/, '');
}

/** Channel message: `{"channel","type","data":[...]}` with `data` elements already JSON text. */
export function channelFrame(channel: string, type: 'snapshot' | 'update', elements: readonly string[]): string {
  return `{"channel":"${channel}","type":"${type}","data":[${elements.join(',')}]}`;
}

export function bookElement(symbol: string, bids: readonly LevelText[], asks: readonly LevelText[], checksum: number, timestamp?: string): string {
  const ts = timestamp === undefined ? '' : `,"timestamp":"${timestamp}"`;
  return `{"symbol":"${symbol}","bids":${levelsJson(bids)},"asks":${levelsJson(asks)},"checksum":${checksum}${ts}}`;
}

export interface TickerText {
  bid: string; bid_qty: string; ask: string; ask_qty: string; last: string; volume: string; vwap: string;
  low: string; high: string; change: string; change_pct: string;
}

export function tickerElement(symbol: string, t: TickerText): string {
  return `{"symbol":"${symbol}","bid":${t.bid},"bid_qty":${t.bid_qty},"ask":${t.ask},"ask_qty":${t.ask_qty},"last":${t.last},"volume":${t.volume},"vwap":${t.vwap},"low":${t.low},"high":${t.high},"change":${t.change},"change_pct":${t.change_pct}}`;
}

export function tradeElement(symbol: string, side: 'buy' | 'sell', price: string, qty: string, ordType: 'market' | 'limit', tradeId: number, timestamp: string): string {
  return `{"symbol":"${symbol}","side":"${side}","price":${price},"qty":${qty},"ord_type":"${ordType}","trade_id":${tradeId},"timestamp":"${timestamp}"}`;
}

export const HEARTBEAT = '{"channel":"heartbeat"}';

/** Sent on connect by the real v2 endpoint (Kraken public docs; not in protocols.md). */
export function statusFrame(connectionId: number): string {
  return `{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":${connectionId},"system":"online","version":"2.0.10"}]}`;
}

const reqIdPart = (reqId: number | undefined): string => (reqId === undefined ? '' : `,"req_id":${reqId}`);

/** One result per symbol: `{"method","req_id"?,"result":{...},"success":true,"time_in","time_out"}`. */
export function methodSuccess(method: string, reqId: number | undefined, result: Record<string, unknown>, timeIn: string, timeOut: string): string {
  return `{"method":"${method}"${reqIdPart(reqId)},"result":${JSON.stringify(result)},"success":true,"time_in":"${timeIn}","time_out":"${timeOut}"}`;
}

export function methodError(method: string | undefined, reqId: number | undefined, error: string, symbol: string | undefined, timeIn: string, timeOut: string): string {
  const m = method === undefined ? '' : `,"method":${JSON.stringify(method)}`;
  const s = symbol === undefined ? '' : `,"symbol":${JSON.stringify(symbol)}`;
  return `{"error":${JSON.stringify(error)}${m}${reqIdPart(reqId)},"success":false${s},"time_in":"${timeIn}","time_out":"${timeOut}"}`;
}

export function pong(reqId: number | undefined, timeIn: string, timeOut: string): string {
  return `{"method":"pong"${reqIdPart(reqId)},"time_in":"${timeIn}","time_out":"${timeOut}"}`;
}

/** AssetPairs error body (REST errors are `{"error":["E...:..."]}`). */
export function restError(...errors: string[]): string {
  return JSON.stringify({ error: errors });
}
