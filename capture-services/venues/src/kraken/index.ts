/** Kraken spot WS v2: defaults, wire types and classifier, requests and sharding, the feed. */
export { KRAKEN } from './config.js';
export type { KrakenBookDepth, KrakenChannel } from './config.js';
export { classify } from './messages.js';
export type * from './messages.js';
export { pingRequest, shardPairs, subscribeRequest, unsubscribeRequest } from './subscribe.js';
export type { KrakenRequestOptions } from './subscribe.js';
export { KrakenFeed } from './feed.js';
export type { KrakenFeedOptions } from './feed.js';
export { normalizers } from './normalize.js';
export * as instruments from './instruments.js';
