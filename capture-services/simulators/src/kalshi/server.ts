import { constants, createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DEFAULT_START_TIME_MS, VirtualClock } from '../common/clock.js';
import { DEFAULT_RATE, DEFAULT_SEED, startVenueServer } from '../common/server.js';
import type { UpgradeDecision } from '../common/server.js';
import type { BaseSimulatorOptions, SimulatorHandle } from '../common/types.js';
import { KalshiGenerator } from './generator.js';
import { makeKalshiInstruments } from './instruments.js';
import type { KalshiInstruments } from './instruments.js';
import { HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, REST_BASE, WS_PATH, authErrorBody, restErrorBody } from './protocol.js';
import type { KalshiWire } from './protocol.js';
import { kalshiRest } from './rest.js';
import { KalshiSession } from './session.js';

export interface KalshiSimulatorOptions extends BaseSimulatorOptions {
  /** API key id → RSA public key PEM (SPKI or PKCS#1; a private key PEM also works). */
  keys?: Record<string, string>;
  /** Refuse upgrades without auth headers (default true). With false, such clients get public channels only. */
  requireAuth?: boolean;
  /**
   * Accepted distance between `KALSHI-ACCESS-TIMESTAMP` and the server clock (default 60 s). Kalshi's window is
   * not in protocols.md; this value is our choice.
   */
  authWindowMs?: number;
  /** Wire shape of data messages (default 'both', like the February 2026 capture). */
  wire?: KalshiWire;
  /**
   * Interval of the WebSocket ping frames (payload `heartbeat`) the server sends (default 10 s). protocols.md is
   * silent; Kalshi's public docs describe a ping every 10 s with body `heartbeat`.
   */
  heartbeatMs?: number;
  /** Series, events and markets served by REST and used as the global-subscription universe. */
  instruments?: KalshiInstruments;
}

/** Kalshi: WS `/trade-api/ws/v2` with RSA-PSS signed upgrade, REST `/trade-api/v2`. */
export async function startKalshiSimulator(options: KalshiSimulatorOptions = {}): Promise<SimulatorHandle> {
  const seed = options.seed ?? DEFAULT_SEED;
  const startTimeMs = options.startTimeMs ?? DEFAULT_START_TIME_MS;
  const instruments = options.instruments ?? makeKalshiInstruments({ startTimeMs, seed });
  const keys = new Map(Object.entries(options.keys ?? {}).map(([id, pem]) => [id, createPublicKey(pem)]));
  const authenticated = new WeakSet<IncomingMessage>();
  const rate = options.replay?.rate ?? options.rate ?? DEFAULT_RATE;

  return startVenueServer({
    wsPath: WS_PATH,
    restBase: REST_BASE,
    options,
    authorize(req) {
      const decision = verifyUpgrade(req, keys, options.requireAuth ?? true, options.authWindowMs ?? 60_000);
      if (decision === 'authenticated') authenticated.add(req);
      return decision === 'authenticated' || decision === 'anonymous' ? { ok: true } : decision;
    },
    createSession(conn, req) {
      const gen = new KalshiGenerator(seed, instruments, options.wire ?? 'both', new VirtualClock(startTimeMs, rate));
      conn.every(options.heartbeatMs ?? 10_000, () => conn.ping('heartbeat'));
      return new KalshiSession(conn, gen, authenticated.has(req));
    },
    rest: kalshiRest(instruments),
    // Kalshi's 429 body is not in protocols.md; the REST error shape is used.
    tooManyRequests: restErrorBody('too_many_requests', 'too many requests'),
  });
}

/**
 * Verify the signed upgrade: RSA-PSS SHA-256 (MGF1-SHA256, salt length = digest length) over
 * `{timestamp_ms}GET{path without query}`, base64 (protocols.md). Any failure is refused with 401.
 */
export function verifyUpgrade(req: IncomingMessage, keys: ReadonlyMap<string, KeyObject>, requireAuth: boolean, windowMs: number, now = Date.now()): 'authenticated' | 'anonymous' | UpgradeDecision {
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const keyId = header(HEADER_KEY);
  const ts = header(HEADER_TIMESTAMP);
  const sig = header(HEADER_SIGNATURE);
  const reject = (message: string): UpgradeDecision => ({ ok: false, status: 401, body: authErrorBody(message) });
  if (keyId === undefined && ts === undefined && sig === undefined) return requireAuth ? reject('missing authentication headers') : 'anonymous';
  if (keyId === undefined || ts === undefined || sig === undefined) return reject('missing authentication header');
  const key = keys.get(keyId);
  if (key === undefined) return reject('unknown API key');
  if (!/^\d+$/.test(ts) || Math.abs(now - Number(ts)) > windowMs) return reject('timestamp outside the allowed window');
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const message = Buffer.from(`${ts}${(req.method ?? 'GET').toUpperCase()}${path}`);
  let ok = false;
  try {
    ok = verify('sha256', message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, Buffer.from(sig, 'base64'));
  } catch {
    ok = false;
  }
  return ok ? 'authenticated' : reject('invalid signature');
}
