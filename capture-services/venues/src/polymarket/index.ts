/** Polymarket CLOB market channel: defaults, wire types and classifier, subscribe messages and sharding, the feed. */
export { POLYMARKET } from './config.js';
export type { PolymarketChannel } from './config.js';
export { classify } from './messages.js';
export type * from './messages.js';
export { shardAssets, subscribeMessage, subscriptionUpdate, unsubscribeMessage } from './subscribe.js';
export { PolymarketFeed } from './feed.js';
export type { PolymarketFeedOptions } from './feed.js';
export { normalizers } from './normalize.js';
export * as instruments from './instruments.js';
