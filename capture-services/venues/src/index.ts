/**
 * Venue connectors: the WebSocket base class, the shared classification types, and one namespace per venue (each
 * folder has the same files: config, messages, subscribe, feed, normalize, instruments, index).
 */
export { WsFeedBase, backoffDelay, feedOptions, parseRetryAfter, UpgradeRefusedError, wsTransport } from './ws-feed-base.js';
export type { BackoffOptions, FeedEvent, FeedStats, Heartbeat, VenueFeedOverrides, WsConnectOptions, WsFeedOptions, WsSocket, WsTlsOptions, WsTransport } from './ws-feed-base.js';
export { NO_SYMBOL, shardList } from './classification.js';
export type { Classification } from './classification.js';
export * as kalshi from './kalshi/index.js';
export * as polymarket from './polymarket/index.js';
export * as kraken from './kraken/index.js';
