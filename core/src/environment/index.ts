/** Environment files (M2): schema, loading with precise errors, key references, editing, diffing. */
export {
  BUILTIN_CALENDARS,
  CHANNELS,
  EnvironmentSchema,
  FeedSchema,
  KALSHI_MARKET_STATUSES,
  KeyRefSchema,
  KRAKEN_BOOK_DEPTHS,
  MIDDLEWARE,
  SHARD_LIMITS,
  VENUES,
  WEEKDAYS,
} from './schema.js';
export type {
  Calendar,
  Channel,
  Day,
  Environment,
  EnvironmentInput,
  Feed,
  FeedInput,
  KalshiFeed,
  KeyRef,
  KrakenFeed,
  Middleware,
  PolymarketFeed,
  Profile,
  Servers,
  Storage,
  Venue,
} from './schema.js';
export { loadEnvironmentFile, parseEnvironment, validateEnvironment } from './load.js';
export type { ValidationResult } from './load.js';
export { collectKeyRefs, positionOf } from './keyrefs.js';
export type { KeyRefUse } from './keyrefs.js';
export { addFeed, initEnvironment, removeFeed, setValue, setValues, unsetValue } from './edit.js';
export type { InitOptions } from './edit.js';
export { diffEnvironments } from './diff.js';
export type { EnvironmentChange } from './diff.js';
export { parsePath, renderPath } from './document.js';
