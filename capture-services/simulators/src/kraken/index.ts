export { startKrakenSimulator } from './server.js';
export type { KrakenSimulatorOptions } from './server.js';
export { DEFAULT_KRAKEN_INSTRUMENTS } from './instruments.js';
export type { KrakenAssetPair, KrakenInstrument } from './instruments.js';
export { BOOK_DEPTHS, bookChecksum, fixed, WS_PATH } from './protocol.js';
export type { LevelText } from './protocol.js';
