import { CHANNELS, KRAKEN_BOOK_DEPTHS, SHARD_LIMITS } from '../../../../core/src/environment/schema.js';
import type { Heartbeat } from '../ws-feed-base.js';

export type KrakenChannel = (typeof CHANNELS.kraken)[number];
export type KrakenBookDepth = (typeof KRAKEN_BOOK_DEPTHS)[number];

/**
 * Kraken spot WS v2 defaults (guide/protocols.md §3(c)). Each can be overridden through the feed's constructor
 * (`url`, `bookDepth`, `maxPerConnection`, `staleAfterMs`, ...); nothing here reads the environment.
 */
export const KRAKEN = {
  venue: 'kraken',
  /** Public spot v2 endpoint. */
  wsUrl: 'wss://ws.kraken.com/v2',
  /** Authenticated endpoint (private channels; not used by the market-data feed). */
  authWsUrl: 'wss://ws-auth.kraken.com/v2',
  betaWsUrl: 'wss://beta-ws.kraken.com/v2',
  channels: CHANNELS.kraken,
  bookDepths: KRAKEN_BOOK_DEPTHS,
  /** Book depth subscribed by default (Kraken's default). */
  bookDepth: 10 as KrakenBookDepth,
  /** Pairs per connection: no documented cap; 100 by default, at most 1000 (environment `shards`). */
  maxPerConnection: SHARD_LIMITS.kraken.default,
  maxPerConnectionLimit: SHARD_LIMITS.kraken.max,
  /**
   * App-level `{"method":"ping","req_id":N}` every 10 s (our choice of interval). The server also sends
   * `{"channel":"heartbeat"}` about once a second while anything is subscribed.
   */
  heartbeat: { kind: 'text', intervalMs: 10_000 } as Heartbeat,
  /** Nothing for 15 s (15 missed heartbeats, or a missed pong) means stale (our choice). */
  staleAfterMs: 15_000,
  /** Frames above this classify as malformed (our choice: a 1000-level book snapshot is about 100 KB). */
  maxFrameBytes: 2 * 1024 * 1024,
} as const;
