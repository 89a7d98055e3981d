import type { Kysely } from 'kysely';
import { ConfigError, type ConfigIssue } from '../../../../core/src/errors.js';
import type { Database } from '../../../../catalog/src/database.js';
import { FieldReader, isRecord, kindOf, stringList } from '../fields.js';
import { RestClient, cursorPages, safeUrl } from '../http.js';
import { runInstrumentSync, type InstrumentSink, type Mapped, type SyncOptions, type SyncResult } from '../secmaster-sync.js';

/** protocols.md 3(a): public REST v2 (prod); the secmaster endpoints need no auth. */
export const KALSHI_REST_URL = 'https://api.elections.kalshi.com/trade-api/v2';
export const KALSHI_ENTITIES = ['kalshi_series', 'kalshi_events', 'kalshi_markets'] as const;
export type KalshiEntity = (typeof KALSHI_ENTITIES)[number];
/** `status` values `GET /events` documents. */
export const KALSHI_EVENT_STATUSES = ['open', 'closed', 'settled'] as const;
export type KalshiEventStatus = (typeof KALSHI_EVENT_STATUSES)[number];

/** protocols.md: the sync client spaces calls 300 ms apart (REST budget 10/s). */
const SPACING_MS = 300;
/** protocols.md: events `limit` ≤ 200, and 50 with nested markets (the reference client ran out of memory at 512Mi). */
const EVENTS_LIMIT = { nested: 50, max: 200 };
const MARKETS_LIMIT = { default: 200, max: 1000 };
const SERIES_LIMIT_MAX = 1000;

/** Narrow a sync. Any filter makes it partial: it records what it sees and never delists. */
export interface KalshiSelect {
  /** Series tickers, e.g. `KXBTCD`. */
  series?: readonly string[];
  /** Event status filter (open, closed, settled). */
  status?: readonly KalshiEventStatus[];
  /** Close-time window, epoch seconds; only with no status or `closed` (protocols.md filter compatibility). */
  minCloseTs?: number;
  maxCloseTs?: number;
}

export interface KalshiSyncOptions extends SyncOptions {
  select?: KalshiSelect;
}

/**
 * Sync Kalshi series, events and markets into `kalshi_series`, `kalshi_events` and `kalshi_markets`.
 * Series come from `GET /series` (cursor pages, filtered here when `select.series` is given: there is no ticker
 * filter). Events come from `GET /events?with_nested_markets=true` (per series when selected), 50 per page by
 * default, and each event's markets arrive nested, so a market's `series_ticker` is its event's. An event served
 * without `markets` has them fetched with `GET /markets?event_ticker=`.
 */
export async function syncKalshiInstruments(db: Kysely<Database>, options: KalshiSyncOptions): Promise<SyncResult<KalshiEntity>> {
  const select = checkKalshiSelect(options.select);
  const baseUrl = options.baseUrl ?? KALSHI_REST_URL;
  const rest = new RestClient(baseUrl, { ...options, spacingMs: options.spacingMs ?? SPACING_MS });
  const pageSize = options.pageSize;
  return runInstrumentSync(db, {
    feed: 'kalshi', entities: KALSHI_ENTITIES, full: select === undefined, options,
    params: { baseUrl: safeUrl(baseUrl), select: select ?? null, pageSize: pageSize ?? null },
  }, async (sink) => {
    const wanted = select?.series === undefined ? undefined : new Set(select.series);
    const seriesLimit = pageSize === undefined ? undefined : clamp(pageSize, SERIES_LIMIT_MAX);
    for await (const page of cursorPages(rest, '/series', { limit: seriesLimit }, 'series')) {
      for (const raw of page) {
        if (wanted !== undefined && !(isRecord(raw) && typeof raw.ticker === 'string' && wanted.has(raw.ticker))) continue;
        await sink.accept('kalshi_series', mapSeries(raw));
      }
    }
    for (const series of select?.series ?? [undefined]) {
      const query = {
        series_ticker: series, with_nested_markets: true, limit: clamp(pageSize ?? EVENTS_LIMIT.nested, EVENTS_LIMIT.max),
        status: select?.status?.join(','), min_close_ts: select?.minCloseTs, max_close_ts: select?.maxCloseTs,
      };
      for await (const page of cursorPages(rest, '/events', query, 'events')) {
        for (const raw of page) await syncEvent(rest, sink, raw, series, pageSize);
      }
    }
  });
}

async function syncEvent(rest: RestClient, sink: InstrumentSink<KalshiEntity>, raw: unknown, series: string | undefined, pageSize: number | undefined): Promise<void> {
  const event = mapEvent(raw, series);
  await sink.accept('kalshi_events', event);
  if (!isRecord(raw)) return;
  const parent = {
    event_ticker: event.ok ? (event.row.event_ticker ?? null) : (event.key ?? null),
    series_ticker: typeof raw.series_ticker === 'string' && raw.series_ticker !== '' ? raw.series_ticker : (series ?? null),
  };
  const markets = raw.markets;
  if (Array.isArray(markets)) {
    for (const m of markets) await sink.accept('kalshi_markets', mapMarket(m, parent));
  } else if (markets !== undefined && markets !== null) {
    await sink.accept('kalshi_markets', { ok: false, reason: `event ${parent.event_ticker ?? '?'}: markets: expected an array, got ${kindOf(markets)}` });
  } else if (parent.event_ticker !== null) {
    const query = { event_ticker: parent.event_ticker, limit: clamp(pageSize ?? MARKETS_LIMIT.default, MARKETS_LIMIT.max) };
    for await (const page of cursorPages(rest, '/markets', query, 'markets')) {
      for (const m of page) await sink.accept('kalshi_markets', mapMarket(m, parent));
    }
  }
}

/** `GET /series` object → `kalshi_series`. `volume`/`volume_fp` are market state, not reference data. */
export function mapSeries(raw: unknown): Mapped<'kalshi_series'> {
  if (!isRecord(raw)) return { ok: false, reason: `series: expected an object, got ${kindOf(raw)}` };
  const f = new FieldReader(raw);
  const ticker = f.key('ticker');
  return f.done(ticker, {
    ticker, title: f.text('title'), category: f.text('category'), frequency: f.text('frequency'),
    tags: f.json('tags', stringList, 'an array of strings'), fee_type: f.text('fee_type'), fee_multiplier: f.decimal('fee_multiplier'),
    settlement_sources: f.json('settlement_sources', (v) => (Array.isArray(v) ? v : undefined), 'an array'),
  });
}

/** `GET /events` object → `kalshi_events`; `series_ticker` falls back to the series asked for. Events carry no status. */
export function mapEvent(raw: unknown, series?: string): Mapped<'kalshi_events'> {
  if (!isRecord(raw)) return { ok: false, reason: `event: expected an object, got ${kindOf(raw)}` };
  const f = new FieldReader(raw);
  const eventTicker = f.key('event_ticker');
  return f.done(eventTicker, {
    event_ticker: eventTicker, series_ticker: f.text('series_ticker') || (series ?? null), title: f.text('title'), sub_title: f.text('sub_title'),
    category: f.text('category'), mutually_exclusive: f.bool('mutually_exclusive'), strike_date: f.time('strike_date'), strike_period: f.text('strike_period'),
  });
}

/**
 * A market object → `kalshi_markets`. `series_ticker` comes from the parent event (markets do not carry it).
 * Strikes are exact decimal text. The raw `status` is kept (initialized, active, closed, determined, settled, …).
 * `result` is `""` until determined (stored as null). `price_units` records the wire shape of the prices.
 */
export function mapMarket(raw: unknown, parent: { event_ticker: string | null; series_ticker: string | null }): Mapped<'kalshi_markets'> {
  if (!isRecord(raw)) return { ok: false, reason: `market: expected an object, got ${kindOf(raw)}` };
  const f = new FieldReader(raw);
  const ticker = f.key('ticker');
  return f.done(ticker, {
    ticker, event_ticker: f.text('event_ticker') || parent.event_ticker, series_ticker: parent.series_ticker,
    title: f.text('title'), subtitle: f.text('subtitle'), yes_sub_title: f.text('yes_sub_title'), no_sub_title: f.text('no_sub_title'),
    status: f.text('status'), market_type: f.text('market_type'),
    open_time: f.time('open_time'), close_time: f.time('close_time'), expected_expiration_time: f.time('expected_expiration_time'),
    strike_type: f.text('strike_type'), floor_strike: f.decimal('floor_strike'), cap_strike: f.decimal('cap_strike'), tick_size: f.decimal('tick_size'),
    price_units: priceUnits(raw), can_close_early: f.bool('can_close_early'), result: f.text('result') || null,
  });
}

const CENT_FIELDS = ['yes_bid', 'yes_ask', 'no_bid', 'no_ask', 'last_price'] as const;

/**
 * `cents` when the legacy integer-cent prices are present (with or without the `_dollars` strings beside them),
 * `dollars` when only the `_dollars` strings are (the shape after the 2026-03-05 deprecation), null when neither is.
 */
export function priceUnits(raw: Readonly<Record<string, unknown>>): 'cents' | 'dollars' | null {
  if (CENT_FIELDS.some((k) => typeof raw[k] === 'number')) return 'cents';
  if (CENT_FIELDS.some((k) => typeof raw[`${k}_dollars`] === 'string')) return 'dollars';
  return null;
}

/**
 * Validate a selection before anything is fetched; undefined when it filters nothing (a full sync).
 * protocols.md: `*_close_ts` works only with status `closed` or none; with `open` Kalshi silently returns 0 events.
 */
export function checkKalshiSelect(select: KalshiSelect | undefined): KalshiSelect | undefined {
  if (select === undefined) return undefined;
  const issues: ConfigIssue[] = [];
  const file = 'kalshi sync selection';
  const series = select.series?.map((s) => s.trim()).filter((s) => s !== '');
  const status = select.status?.filter((s) => s.trim() !== '');
  for (const s of status ?? []) {
    if (!(KALSHI_EVENT_STATUSES as readonly string[]).includes(s)) issues.push({ file, path: 'status', expected: KALSHI_EVENT_STATUSES.join(', '), got: JSON.stringify(s) });
  }
  for (const k of ['minCloseTs', 'maxCloseTs'] as const) {
    const v = select[k];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) issues.push({ file, path: k, expected: 'epoch seconds', got: JSON.stringify(v) });
  }
  const closeWindow = select.minCloseTs !== undefined || select.maxCloseTs !== undefined;
  if (closeWindow && (status ?? []).some((s) => s !== 'closed')) {
    issues.push({ file, path: 'status', expected: 'no status or only closed with a close-time window (Kalshi returns nothing otherwise)', got: JSON.stringify(status?.join(',')) });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  const out: KalshiSelect = {
    ...(series !== undefined && series.length > 0 ? { series } : {}),
    ...(status !== undefined && status.length > 0 ? { status } : {}),
    ...(select.minCloseTs === undefined ? {} : { minCloseTs: select.minCloseTs }),
    ...(select.maxCloseTs === undefined ? {} : { maxCloseTs: select.maxCloseTs }),
  };
  return Object.keys(out).length === 0 ? undefined : out;
}

function clamp(n: number, max: number): number {
  return Math.min(max, Math.max(1, Math.floor(n)));
}
