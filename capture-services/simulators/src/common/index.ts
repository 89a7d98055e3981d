export { startVenueServer, readLines, DEFAULT_RATE, DEFAULT_SEED, LOOPBACK } from './server.js';
export type { VenueServerSpec, UpgradeDecision } from './server.js';
export { SimConnection } from './connection.js';
export type { VenueSession } from './connection.js';
export { Prng } from './prng.js';
export { VirtualClock, DEFAULT_START_TIME_MS, rfc3339Micros } from './clock.js';
export type * from './types.js';
