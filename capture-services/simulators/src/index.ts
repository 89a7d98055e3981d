/**
 * Local exchange simulators speaking each venue's real protocol (guide/protocols.md), for tests, the demo and
 * benchmarks. Each binds 127.0.0.1 only and returns a `SimulatorHandle`.
 */
export { startKalshiSimulator } from './kalshi/index.js';
export type { KalshiSimulatorOptions } from './kalshi/index.js';
export { startPolymarketSimulator } from './polymarket/index.js';
export type { PolymarketSimulatorOptions } from './polymarket/index.js';
export { startKrakenSimulator } from './kraken/index.js';
export type { KrakenSimulatorOptions } from './kraken/index.js';
export type * from './common/types.js';
export * as kalshi from './kalshi/index.js';
export * as polymarket from './polymarket/index.js';
export * as kraken from './kraken/index.js';
