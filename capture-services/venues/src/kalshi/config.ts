import { CHANNELS, SHARD_LIMITS } from '../../../../core/src/environment/schema.js';
import type { Heartbeat } from '../ws-feed-base.js';

export type KalshiChannel = (typeof CHANNELS.kalshi)[number];

/**
 * Kalshi WS v2 defaults (guide/protocols.md §3(a)). Each can be overridden through the feed's constructor
 * (`url`, `channels`, `maxPerConnection`, `staleAfterMs`, `heartbeat`, ...); nothing here reads the environment.
 */
export const KALSHI = {
  venue: 'kalshi',
  /** Production WS v2, as in the feed YAML and port plan (the code constant `wss://api.kalshi.com/...` is older). */
  wsUrl: 'wss://api.elections.kalshi.com/trade-api/ws/v2',
  /** Demo environment. */
  demoWsUrl: 'wss://demo-api.kalshi.co/trade-api/ws/v2',
  /** Channels a feed may subscribe to. */
  channels: CHANNELS.kalshi,
  /**
   * Channels subscribed without market tickers (every market), and on shard 0 only so shards do not duplicate them.
   * protocols.md: omitting the markets is a global subscription; its lifecycle example is global. Our choice.
   */
  globalChannels: ['market_lifecycle_v2'] as readonly KalshiChannel[],
  /** At most 256 market tickers per subscription command (protocols.md). */
  maxMarketsPerSubscription: 256,
  /** Markets per connection (shard): 200 by default, at most 256 (environment `shards.max_per_connection`). */
  maxPerConnection: SHARD_LIMITS.kalshi.default,
  maxPerConnectionLimit: SHARD_LIMITS.kalshi.max,
  /**
   * The server pings every 10 s (Kalshi public docs; `ws` answers the pongs). We also send a WebSocket ping every
   * 10 s so a silent server is noticed through missing pongs (our choice; protocols.md is silent).
   */
  heartbeat: { kind: 'ws-ping', intervalMs: 10_000 } as Heartbeat,
  /** Nothing (frame, ping or pong) for 30 s, three heartbeat periods, means stale (our choice). */
  staleAfterMs: 30_000,
  /** Frames above this classify as malformed (our choice: far above any documented message). */
  maxFrameBytes: 2 * 1024 * 1024,
} as const;
