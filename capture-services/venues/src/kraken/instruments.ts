import type { Kysely } from 'kysely';
import type { Database } from '../../../../catalog/src/database.js';
import { FieldReader, isRecord, kindOf } from '../fields.js';
import { RestClient, UnexpectedResponseError, safeUrl, type BodyProblem } from '../http.js';
import { runInstrumentSync, type Mapped, type SyncOptions, type SyncResult } from '../secmaster-sync.js';

/** protocols.md 3(c): public REST. */
export const KRAKEN_REST_URL = 'https://api.kraken.com';
export const KRAKEN_ENTITIES = ['kraken_pairs'] as const;
export type KrakenEntity = (typeof KRAKEN_ENTITIES)[number];
const ASSET_PAIRS_PATH = '/0/public/AssetPairs';

/** AssetPairs `wsname` (and v1) asset codes → WebSocket v2 codes: v2 says `BTC/USD` where `wsname` says `XBT/USD`. */
export const V2_ASSET: Readonly<Record<string, string>> = { XBT: 'BTC', XDG: 'DOGE' };

/** Narrow a sync. Any filter makes it partial: it never delists. */
export interface KrakenSelect {
  /** AssetPairs keys or altnames (`XXBTZUSD`, `XBTUSD`), sent as `pair=`. */
  pairs?: readonly string[];
}

export interface KrakenSyncOptions extends SyncOptions {
  select?: KrakenSelect;
}

/**
 * Kraken reports errors in the body, `{"error":["EAPI:Rate limit exceeded"], ...}`, sometimes with HTTP 200
 * (protocols.md; the simulator uses 429). Rate limits are retried like a 429; other errors fail at once.
 */
export function krakenBodyError(body: unknown): BodyProblem | undefined {
  if (!isRecord(body) || !Array.isArray(body.error) || body.error.length === 0) return undefined;
  const message = body.error.map(String).join('; ');
  return { message, retryable: /EAPI:Rate limit|EGeneral:Too many requests|EService:(Unavailable|Busy)/i.test(message) };
}

/**
 * Sync `GET /0/public/AssetPairs` into `kraken_pairs`, keyed by the v2 symbol derived from `wsname` (one response,
 * no pagination; `pageSize` does not apply).
 */
export async function syncKrakenInstruments(db: Kysely<Database>, options: KrakenSyncOptions): Promise<SyncResult<KrakenEntity>> {
  const pairs = options.select?.pairs?.map((p) => p.trim()).filter((p) => p !== '');
  const select = pairs !== undefined && pairs.length > 0 ? { pairs } : undefined;
  const baseUrl = options.baseUrl ?? KRAKEN_REST_URL;
  const rest = new RestClient(baseUrl, { ...options, bodyError: krakenBodyError });
  return runInstrumentSync(db, {
    feed: 'kraken', entities: KRAKEN_ENTITIES, full: select === undefined, options,
    params: { baseUrl: safeUrl(baseUrl), select: select ?? null },
  }, async (sink) => {
    const body = await rest.get(ASSET_PAIRS_PATH, { pair: select?.pairs.join(',') });
    const result = isRecord(body) ? body.result : undefined;
    if (!isRecord(result)) throw new UnexpectedResponseError(`GET ${ASSET_PAIRS_PATH}: expected result to be an object of pairs, got ${kindOf(result)}`);
    for (const [pairKey, raw] of Object.entries(result)) await sink.accept('kraken_pairs', mapAssetPair(pairKey, raw));
  });
}

/**
 * One AssetPairs entry → `kraken_pairs`. `symbol`, `base` and `quote` come from `wsname` split on `/` with v1 codes
 * mapped to v2 (XBT→BTC, XDG→DOGE). There is no fallback from `base`/`quote` (protocols.md: stripping X/Z guesses
 * wrong, e.g. on XAUT): an entry without a usable `wsname` is invalid. Decimal fields keep their exact text.
 */
export function mapAssetPair(pairKey: string, raw: unknown): Mapped<'kraken_pairs'> {
  if (!isRecord(raw)) return { ok: false, reason: `pair ${pairKey}: expected an object, got ${kindOf(raw)}` };
  const f = new FieldReader(raw);
  const wsname = f.text('wsname');
  const parts = wsname?.split('/') ?? [];
  const [base, quote] = parts.map((p) => V2_ASSET[p.trim()] ?? p.trim());
  let symbol: string | undefined;
  if (parts.length === 2 && base && quote) symbol = `${base}/${quote}`;
  else f.fail(`pair ${pairKey}: wsname: expected BASE/QUOTE, got ${wsname === null ? 'nothing' : JSON.stringify(wsname)}`);
  return f.done(symbol, {
    symbol, pair_key: pairKey, altname: f.text('altname'), wsname, base: base ?? null, quote: quote ?? null, status: f.text('status'),
    pair_decimals: f.integer('pair_decimals'), lot_decimals: f.integer('lot_decimals'), cost_decimals: f.integer('cost_decimals'),
    tick_size: f.decimal('tick_size'), ordermin: f.decimal('ordermin'), costmin: f.decimal('costmin'),
  });
}
