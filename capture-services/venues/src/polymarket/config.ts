import { CHANNELS, SHARD_LIMITS } from '../../../../core/src/environment/schema.js';
import type { Heartbeat } from '../ws-feed-base.js';

export type PolymarketChannel = (typeof CHANNELS.polymarket)[number];

/**
 * Polymarket CLOB market-channel defaults (guide/protocols.md §3(b)). Each can be overridden through the feed's
 * constructor (`url`, `maxPerConnection`, `staleAfterMs`, ...); nothing here reads the environment.
 */
export const POLYMARKET = {
  venue: 'polymarket',
  /** Market channel; no auth. */
  wsUrl: 'wss://ws-subscriptions-clob.polymarket.com/ws/market',
  /** Event types a feed may keep (all arrive on the one market channel). */
  channels: CHANNELS.polymarket,
  /** Event types that need `custom_feature_enabled: true`. */
  customFeatureChannels: ['best_bid_ask', 'new_market', 'market_resolved'] as readonly PolymarketChannel[],
  /** At most 500 asset ids per connection (protocols.md); more assets open more shards. */
  maxPerConnection: SHARD_LIMITS.polymarket.default,
  /** Text `PING` every 10 s; the server answers `PONG` (protocols.md). */
  heartbeat: { kind: 'text', intervalMs: 10_000 } as Heartbeat,
  ping: 'PING',
  pong: 'PONG',
  /**
   * Nothing for 30 s (three missed PONGs) means stale. protocols.md gives a 120 s read timeout and streams that stop
   * after about 20 minutes; with PONGs every 10 s, 30 s catches a dead stream sooner (our choice).
   */
  staleAfterMs: 30_000,
  /** Up to 2 MiB per frame (protocols.md): larger frames classify as malformed. */
  maxFrameBytes: 2 * 1024 * 1024,
} as const;
