import { boolParam, decodeCursor, encodeCursor, intParam, json, listParam } from '../common/rest.js';
import type { RestHandler, RestReply } from '../common/rest.js';
import type { KalshiEvent, KalshiInstruments, KalshiMarket } from './instruments.js';
import { restErrorBody } from './protocol.js';

/** Page sizes. protocols.md: events limit ≤ 200; the markets maximum (1000) and the defaults (100) are our choice. */
export const LIMITS = {
  events: { default: 100, max: 200 },
  markets: { default: 100, max: 1000 },
  series: { default: 100, max: 1000 },
} as const;

/** The `status` filter value → market `status` values it matches (protocols.md status lists; mapping is ours). */
const STATUS_FILTER: Readonly<Record<string, readonly string[]>> = {
  unopened: ['initialized', 'unopened'],
  open: ['open', 'active'],
  closed: ['closed', 'inactive', 'disputed', 'amended', 'determined'],
  settled: ['settled', 'finalized'],
};

const bad = (message: string): RestReply => ({ status: 400, body: restErrorBody('bad_request', message) });
const notFound = (what: string): RestReply => ({ status: 404, body: restErrorBody('not_found', `${what} not found`) });

/** Public REST v2 secmaster endpoints (no auth, as protocols.md says the sync client calls them). */
export function kalshiRest(inst: KalshiInstruments): RestHandler {
  const marketsOf = (eventTicker: string): KalshiMarket[] => inst.markets.filter((m) => m.event_ticker === eventTicker);
  const withMarkets = (e: KalshiEvent, nested: boolean): KalshiEvent => (nested ? { ...e, markets: marketsOf(e.event_ticker) } : e);

  return (path, q) => {
    if (path === '/series') {
      const category = q.get('category');
      return page(q, 'series', LIMITS.series, inst.series.filter((s) => category === null || s.category === category));
    }
    if (path === '/events') {
      const statuses = listParam(q, 'status');
      const unknown = statuses.find((s) => STATUS_FILTER[s] === undefined);
      if (unknown !== undefined) return bad(`invalid status: ${unknown}`);
      const series = q.get('series_ticker');
      const nested = boolParam(q, 'with_nested_markets') === true;
      const rows = inst.events
        .filter((e) => series === null || e.series_ticker === series)
        .filter((e) => statuses.length === 0 || marketsOf(e.event_ticker).some((m) => matchesStatus(m, statuses)));
      return page(q, 'events', LIMITS.events, rows, (e) => withMarkets(e, nested));
    }
    if (path === '/markets') {
      const statuses = listParam(q, 'status');
      const unknown = statuses.find((s) => STATUS_FILTER[s] === undefined);
      if (unknown !== undefined) return bad(`invalid status: ${unknown}`);
      const series = q.get('series_ticker');
      const events = listParam(q, 'event_ticker');
      const tickers = listParam(q, 'tickers');
      const rows = inst.markets.filter(
        (m) =>
          (series === null || m.event_ticker.startsWith(`${series}-`)) &&
          (events.length === 0 || events.includes(m.event_ticker)) &&
          (tickers.length === 0 || tickers.includes(m.ticker)) &&
          (statuses.length === 0 || matchesStatus(m, statuses)),
      );
      return page(q, 'markets', LIMITS.markets, rows);
    }
    const one = /^\/(markets|events)\/([^/]+)$/.exec(path);
    if (one !== null) {
      const ticker = decodeURIComponent(one[2] as string);
      if (one[1] === 'markets') {
        const m = inst.markets.find((x) => x.ticker === ticker);
        return m === undefined ? notFound(`market ${ticker}`) : json(200, { market: m });
      }
      const e = inst.events.find((x) => x.event_ticker === ticker);
      return e === undefined ? notFound(`event ${ticker}`) : json(200, { event: withMarkets(e, boolParam(q, 'with_nested_markets') === true) });
    }
    return undefined;
  };
}

function matchesStatus(m: KalshiMarket, filters: readonly string[]): boolean {
  return filters.some((f) => STATUS_FILTER[f]?.includes(m.status) === true);
}

/** Cursor pagination: `{<key>: [...], cursor}`, cursor `""` on the last page (protocols.md: loop until empty). */
function page<T>(q: URLSearchParams, key: string, limits: { default: number; max: number }, rows: readonly T[], map: (r: T) => unknown = (r) => r): RestReply {
  const limit = intParam(q, 'limit', limits.default);
  if (!Number.isInteger(limit) || limit < 1 || limit > limits.max) return bad(`limit must be between 1 and ${limits.max}`);
  const offset = decodeCursor(q.get('cursor'));
  if (offset === undefined) return bad('invalid cursor');
  const slice = rows.slice(offset, offset + limit);
  const next = offset + limit < rows.length ? encodeCursor(offset + limit) : '';
  return json(200, { [key]: slice.map(map), cursor: next });
}
