export { startKalshiSimulator, verifyUpgrade } from './server.js';
export type { KalshiSimulatorOptions } from './server.js';
export { makeKalshiInstruments, easternHourCode, DEFAULT_SERIES } from './instruments.js';
export type { KalshiInstruments, KalshiSeries, KalshiEvent, KalshiMarket, KalshiSeriesSpec } from './instruments.js';
export { ERR as KALSHI_ERRORS, MAX_MARKETS_PER_SUBSCRIPTION, WS_PATH, REST_BASE } from './protocol.js';
export type { KalshiWire } from './protocol.js';
