import { shardList } from '../classification.js';
import { KRAKEN } from './config.js';
import type { KrakenBookDepth, KrakenChannel } from './config.js';
import type { KrakenPingRequest, KrakenSubscribeRequest } from './messages.js';

export interface KrakenRequestOptions {
  /** Book depth (book channel only; default 10). */
  depth?: KrakenBookDepth;
  reqId?: number;
}

function request(method: 'subscribe' | 'unsubscribe', channel: KrakenChannel, symbols: readonly string[], o: KrakenRequestOptions): string {
  const r: KrakenSubscribeRequest = { method, params: { channel, symbol: [...symbols] } };
  if (channel === 'book') r.params.depth = o.depth ?? KRAKEN.bookDepth;
  if (o.reqId !== undefined) r.req_id = o.reqId;
  return JSON.stringify(r);
}

/**
 * `{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],"depth":10},"req_id":1}`: one request per
 * channel with all the shard's symbols; `snapshot` is left to its default (true for book and ticker).
 */
export function subscribeRequest(channel: KrakenChannel, symbols: readonly string[], o: KrakenRequestOptions = {}): string {
  return request('subscribe', channel, symbols, o);
}

export function unsubscribeRequest(channel: KrakenChannel, symbols: readonly string[], o: KrakenRequestOptions = {}): string {
  return request('unsubscribe', channel, symbols, o);
}

/** App-level keepalive `{"method":"ping","req_id":N}`; answered by `{"method":"pong",...}`. */
export function pingRequest(reqId?: number): string {
  const r: KrakenPingRequest = reqId === undefined ? { method: 'ping' } : { method: 'ping', req_id: reqId };
  return JSON.stringify(r);
}

/** v2 symbols (`BTC/USD`) → shards (one connection each) of at most `maxPerConnection` (default 100, at most 1000). */
export function shardPairs(symbols: readonly string[], maxPerConnection: number = KRAKEN.maxPerConnection): string[][] {
  if (maxPerConnection > KRAKEN.maxPerConnectionLimit) {
    throw new RangeError(`kraken: max_per_connection ${maxPerConnection} is over ${KRAKEN.maxPerConnectionLimit}`);
  }
  return shardList(symbols, maxPerConnection);
}
