export { startPolymarketSimulator } from './server.js';
export type { PolymarketSimulatorOptions } from './server.js';
export { makePolymarketInstruments, marketsOf, parseList } from './instruments.js';
export type { GammaEvent, GammaMarket, PolymarketInstruments } from './instruments.js';
export type { PriceChangeFormat } from './generator.js';
export { MAX_ASSETS_PER_CONNECTION, TOO_MANY_ASSETS, WS_PATH } from './protocol.js';
