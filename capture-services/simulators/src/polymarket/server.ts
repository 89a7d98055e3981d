import { DEFAULT_START_TIME_MS, VirtualClock } from '../common/clock.js';
import { DEFAULT_RATE, DEFAULT_SEED, startVenueServer } from '../common/server.js';
import type { BaseSimulatorOptions, SimulatorHandle } from '../common/types.js';
import { PolymarketGenerator } from './generator.js';
import type { PriceChangeFormat } from './generator.js';
import { makePolymarketInstruments } from './instruments.js';
import type { PolymarketInstruments } from './instruments.js';
import { REST_BASE, WS_PATH } from './protocol.js';
import { gammaRest } from './rest.js';
import { PolymarketSession } from './session.js';

export interface PolymarketSimulatorOptions extends BaseSimulatorOptions {
  /** Events and markets served by Gamma REST; their tokens get coherent YES/NO books. */
  instruments?: PolymarketInstruments;
  /** `price_change` wire format: the current `price_changes[]`, the legacy per-asset `changes[]`, or both (default). */
  priceChangeFormat?: PriceChangeFormat;
  /**
   * Disconnect a client that has sent no `PING` for this long (default 30 s, three missed 10 s pings). The real
   * server-side timeout is not documented; this value is our choice.
   */
  pingTimeoutMs?: number;
}

/** Polymarket: CLOB market channel at `/ws/market`, Gamma REST (`/markets`, `/events`) at the root. */
export async function startPolymarketSimulator(options: PolymarketSimulatorOptions = {}): Promise<SimulatorHandle> {
  const seed = options.seed ?? DEFAULT_SEED;
  const startTimeMs = options.startTimeMs ?? DEFAULT_START_TIME_MS;
  const instruments = options.instruments ?? makePolymarketInstruments({ seed, startTimeMs });
  const rate = options.replay?.rate ?? options.rate ?? DEFAULT_RATE;
  return startVenueServer({
    wsPath: WS_PATH,
    restBase: REST_BASE,
    options,
    createSession(conn) {
      const gen = new PolymarketGenerator(seed, instruments, new VirtualClock(startTimeMs, rate), options.priceChangeFormat ?? 'both');
      return new PolymarketSession(conn, gen, options.pingTimeoutMs ?? 30_000);
    },
    rest: gammaRest(instruments),
    // Gamma's 429 body is not in protocols.md; a JSON error object is our choice.
    tooManyRequests: JSON.stringify({ error: 'Too Many Requests' }),
  });
}
