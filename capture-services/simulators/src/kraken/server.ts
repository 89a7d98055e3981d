import { DEFAULT_START_TIME_MS, VirtualClock } from '../common/clock.js';
import { Prng } from '../common/prng.js';
import { DEFAULT_RATE, DEFAULT_SEED, startVenueServer } from '../common/server.js';
import type { BaseSimulatorOptions, SimulatorHandle } from '../common/types.js';
import { KrakenGenerator } from './generator.js';
import { DEFAULT_KRAKEN_INSTRUMENTS } from './instruments.js';
import type { KrakenInstrument } from './instruments.js';
import { REST_BASE, WS_PATH, restError, statusFrame } from './protocol.js';
import { krakenRest } from './rest.js';
import { KrakenSession } from './session.js';

export interface KrakenSimulatorOptions extends BaseSimulatorOptions {
  /** Pairs served by AssetPairs and subscribable by their v2 `symbol`. */
  instruments?: readonly KrakenInstrument[];
  /** Interval of `{"channel":"heartbeat"}` while anything is subscribed (default 1 s). */
  heartbeatMs?: number;
  /** Send the `status` message on connect, as the real endpoint does (default true; not in protocols.md). */
  statusOnConnect?: boolean;
}

/**
 * Kraken spot WS v2 at `/v2` (wss when `tls` is given) and REST `/0/public/AssetPairs`. The 101 response carries
 * the headers of a Cloudflare-fronted endpoint: `Server: cloudflare`, `CF-RAY`, `Connection: upgrade`
 * (protocols.md lists none; these are the ones Cloudflare adds).
 */
export async function startKrakenSimulator(options: KrakenSimulatorOptions = {}): Promise<SimulatorHandle> {
  const seed = options.seed ?? DEFAULT_SEED;
  const startTimeMs = options.startTimeMs ?? DEFAULT_START_TIME_MS;
  const instruments = options.instruments ?? DEFAULT_KRAKEN_INSTRUMENTS;
  const rate = options.replay?.rate ?? options.rate ?? DEFAULT_RATE;
  const ids = Prng.derive(seed, 'kraken-connection-ids');
  return startVenueServer({
    wsPath: WS_PATH,
    restBase: REST_BASE,
    options,
    upgradeHeaders(headers) {
      const i = headers.findIndex((h) => h.toLowerCase() === 'connection: upgrade');
      if (i >= 0) headers[i] = 'Connection: upgrade';
      headers.push(`Date: ${new Date().toUTCString()}`, 'Server: cloudflare', `CF-RAY: ${ids.hex(16)}-FRA`);
    },
    createSession(conn) {
      const gen = new KrakenGenerator(seed, instruments, new VirtualClock(startTimeMs, rate));
      if (options.statusOnConnect ?? true) conn.control(statusFrame(gen.rng.int(1_000_000_000, 2_000_000_000) * 1000 + gen.rng.int(0, 999)));
      return new KrakenSession(conn, gen, options.heartbeatMs ?? 1000);
    },
    rest: krakenRest(instruments),
    // Real Kraken may answer rate limits with HTTP 200 and this error; the fault uses HTTP 429 with it.
    tooManyRequests: restError('EAPI:Rate limit exceeded'),
  });
}
