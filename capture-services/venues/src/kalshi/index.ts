/** Kalshi WS v2: defaults, wire types and classifier, commands and sharding, the feed. */
export { KALSHI } from './config.js';
export type { KalshiChannel } from './config.js';
export { classify } from './messages.js';
export type * from './messages.js';
export { chunkMarkets, kalshiAuthHeaders, loadKalshiKey, shardMarkets, subscribeCommand, unsubscribeCommand, updateSubscriptionCommand } from './subscribe.js';
export type { KalshiCredentials } from './subscribe.js';
export { KalshiFeed } from './feed.js';
export type { KalshiFeedOptions } from './feed.js';
export { normalizers } from './normalize.js';
export * as instruments from './instruments.js';
