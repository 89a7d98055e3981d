/**
 * Kalshi WS v2 and REST v2 wire facts, as named builders (guide/protocols.md §3(a); real frames in
 * shared/fixtures/real/kalshi_*.jsonl).
 */

export const WS_PATH = '/trade-api/ws/v2';
export const REST_BASE = '/trade-api/v2';

export const MAX_MARKETS_PER_SUBSCRIPTION = 256;
export const DATA_CHANNELS = ['ticker', 'trade', 'orderbook_delta', 'market_lifecycle_v2'] as const;
export type DataChannel = (typeof DATA_CHANNELS)[number];
export const PRIVATE_CHANNELS = ['fill', 'user_orders', 'market_positions'] as const;
/** Channels that may be subscribed without market tickers (protocols.md: orderbook_delta is per market). */
export const GLOBAL_CHANNELS: ReadonlySet<string> = new Set(['ticker', 'trade', 'market_lifecycle_v2']);

/** Wire shapes: legacy cents (2025), both (the February 2026 capture), dollars/fixed-point only (mid 2026). */
export type KalshiWire = 'cents' | 'dollars' | 'both';

/** Auth headers of the WS upgrade (and private REST). */
export const HEADER_KEY = 'kalshi-access-key';
export const HEADER_TIMESTAMP = 'kalshi-access-timestamp';
export const HEADER_SIGNATURE = 'kalshi-access-signature';

/**
 * Error codes. protocols.md documents 2 (invalid parameters), 6 (already subscribed), 7 (not subscribed) and
 * 10 (authentication required) in a range of 1–22, and only the text of 6. The other codes and every other
 * text are our choice, taken from Kalshi's public numbering where it does not clash with protocols.md
 * (1 unable to process, 5 unknown command, 8 unknown channel). The market limit has no documented code; we use 2.
 */
export const ERR = {
  unableToProcess: { code: 1, msg: 'Unable to process message' },
  invalidParameters: { code: 2, msg: 'Invalid parameters' },
  tooManyMarkets: { code: 2, msg: `Too many market tickers: at most ${MAX_MARKETS_PER_SUBSCRIPTION} per subscription` },
  unknownCommand: { code: 5, msg: 'Unknown command' },
  alreadySubscribed: { code: 6, msg: 'Already subscribed' },
  notSubscribed: { code: 7, msg: 'Not subscribed' },
  unknownChannel: { code: 8, msg: 'Unknown channel name' },
  authRequired: { code: 10, msg: 'Authentication required' },
} as const;
export type KalshiError = (typeof ERR)[keyof typeof ERR];

export function errorFrame(id: number | undefined, e: KalshiError, detail?: string): string {
  const msg = detail === undefined ? e.msg : `${e.msg}: ${detail}`;
  return JSON.stringify(id === undefined ? { type: 'error', msg: { code: e.code, msg } } : { type: 'error', id, msg: { code: e.code, msg } });
}

export function subscribedFrame(id: number, channel: string, sid: number): string {
  return `{"type":"subscribed","id":${id},"msg":{"channel":${JSON.stringify(channel)},"sid":${sid}}}`;
}

/** `ok` carries its fields at top level; `seq` is the sid's last sequence number (not consumed). */
export function okFrame(id: number, sid: number, seq: number, marketTickers: readonly string[]): string {
  return JSON.stringify({ type: 'ok', id, sid, seq, market_tickers: marketTickers });
}

export function unsubscribedFrame(id: number, sid: number, seq: number): string {
  return `{"type":"unsubscribed","id":${id},"sid":${sid},"seq":${seq}}`;
}

/** Data envelope, key order as in the real captures: type, sid, [seq], msg. */
export function dataFrame(type: string, sid: number, seq: number | undefined, msgJson: string): string {
  return seq === undefined
    ? `{"type":"${type}","sid":${sid},"msg":${msgJson}}`
    : `{"type":"${type}","sid":${sid},"seq":${seq},"msg":${msgJson}}`;
}

/** Message types that carry a per-sid `seq` (protocols.md: trade and orderbook only). */
export const SEQUENCED_TYPES: ReadonlySet<string> = new Set(['trade', 'orderbook_snapshot', 'orderbook_delta']);

/** The channel a data message type arrives on (for replay routing). */
export const CHANNEL_OF_TYPE: Readonly<Record<string, DataChannel>> = {
  ticker: 'ticker',
  trade: 'trade',
  orderbook_snapshot: 'orderbook_delta',
  orderbook_delta: 'orderbook_delta',
  market_lifecycle_v2: 'market_lifecycle_v2',
  event_lifecycle: 'market_lifecycle_v2',
};

/** Cents 0–100 as a 4-dp dollar string (`77` → `"0.7700"`). */
export function dollars(cents: number): string {
  return (cents / 100).toFixed(4);
}

/** A count as a 2-dp fixed-point string (`75` → `"75.00"`). */
export function fp(count: number): string {
  return count.toFixed(2);
}

/**
 * Upgrade refusal. Kalshi's HTTP answer to a bad signature is not in protocols.md: we answer 401 with a JSON
 * body in the REST error shape `{"error":{"code","message"}}`.
 */
export function authErrorBody(message: string): string {
  return JSON.stringify({ error: { code: 'authentication_error', message } });
}

/** REST error body (shape not in protocols.md; Kalshi's `{"error":{"code","message"}}` REST shape). */
export function restErrorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}
