import { DEFAULT_START_TIME_MS, rfc3339Seconds } from '../common/clock.js';
import { Prng } from '../common/prng.js';
import { dollars, fp } from './protocol.js';

/** REST `series[]` object (protocols.md: ticker, title, category, tags, volume_fp, fee_type, fee_multiplier). */
export interface KalshiSeries {
  ticker: string;
  title: string;
  category: string;
  tags: string[];
  frequency: string;
  fee_type: string;
  fee_multiplier: number;
  volume_fp: string;
  [extra: string]: unknown;
}

/** REST `events[]` object; it has no status field (protocols.md). */
export interface KalshiEvent {
  event_ticker: string;
  series_ticker: string;
  title: string;
  sub_title: string;
  category: string;
  strike_date: string;
  mutually_exclusive: boolean;
  [extra: string]: unknown;
}

/** REST `markets[]` object (the fields protocols.md lists). */
export interface KalshiMarket {
  ticker: string;
  event_ticker: string;
  status: string;
  last_price: number;
  yes_bid: number;
  yes_ask: number;
  volume: number;
  open_interest: number;
  [extra: string]: unknown;
}

export interface KalshiInstruments {
  series: KalshiSeries[];
  events: KalshiEvent[];
  markets: KalshiMarket[];
}

export interface KalshiSeriesSpec {
  ticker: string;
  title: string;
  underlying: string;
  /** Centre strike and spacing of the generated `-T` thresholds. */
  base: number;
  step: number;
}

export const DEFAULT_SERIES: readonly KalshiSeriesSpec[] = [
  { ticker: 'KXBTCD', title: 'Bitcoin price today at the hour', underlying: 'BTC', base: 67750, step: 250 },
  { ticker: 'KXETHD', title: 'Ethereum price today at the hour', underlying: 'ETH', base: 1820, step: 20 },
];

const HOUR_MS = 3_600_000;
const ET_PARTS = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  year: '2-digit',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  hourCycle: 'h23',
});

/** `26FEB1217`: the date/hour part of an event ticker, in US Eastern time (protocols.md ticker anatomy). */
export function easternHourCode(ms: number): string {
  const p: Record<string, string> = {};
  for (const part of ET_PARTS.formatToParts(new Date(ms))) p[part.type] = part.value;
  return `${p.year}${(p.month ?? '').toUpperCase()}${p.day}${p.hour}`;
}

/**
 * Hourly threshold events per series: the first closed an hour before `startTimeMs` and is settled, the
 * others close on the following hours and are active. Market tickers follow `SERIES-26FEB1217-T67749.99`.
 */
export function makeKalshiInstruments(
  opts: { startTimeMs?: number; series?: readonly KalshiSeriesSpec[]; eventsPerSeries?: number; marketsPerEvent?: number; seed?: number } = {},
): KalshiInstruments {
  const start = Math.floor((opts.startTimeMs ?? DEFAULT_START_TIME_MS) / HOUR_MS) * HOUR_MS;
  const prng = Prng.derive(opts.seed ?? 1, 'kalshi-instruments');
  const out: KalshiInstruments = { series: [], events: [], markets: [] };
  for (const s of opts.series ?? DEFAULT_SERIES) {
    out.series.push({
      ticker: s.ticker, title: s.title, category: 'Crypto', tags: [s.underlying], frequency: 'hourly',
      fee_type: 'quadratic', fee_multiplier: 1, volume_fp: fp(prng.int(100_000, 9_000_000)),
    });
    for (let e = 0; e < (opts.eventsPerSeries ?? 3); e++) {
      const closeMs = start + (e - 1) * HOUR_MS;
      const eventTicker = `${s.ticker}-${easternHourCode(closeMs)}`;
      const settled = e === 0;
      out.events.push({
        event_ticker: eventTicker, series_ticker: s.ticker, title: `${s.underlying} price at ${rfc3339Seconds(closeMs)}`,
        sub_title: `On ${easternHourCode(closeMs)} ET`, category: 'Crypto', strike_date: rfc3339Seconds(closeMs),
        strike_period: 'hour', mutually_exclusive: false,
      });
      const n = opts.marketsPerEvent ?? 5;
      for (let m = 0; m < n; m++) {
        const strike = s.base + (m - Math.floor(n / 2)) * s.step - 0.01;
        out.markets.push(market(prng, eventTicker, strike, closeMs, settled));
      }
    }
  }
  return out;
}

function market(prng: Prng, eventTicker: string, strike: number, closeMs: number, settled: boolean): KalshiMarket {
  const yesBid = prng.int(2, 90);
  const yesAsk = Math.min(99, yesBid + prng.int(1, 6));
  const last = prng.int(yesBid, yesAsk);
  const volume = prng.int(0, 200_000);
  const oi = Math.floor(volume / 3);
  const result = settled ? (prng.chance(0.5) ? 'yes' : 'no') : '';
  return {
    ticker: `${eventTicker}-T${strike.toFixed(2)}`, event_ticker: eventTicker, market_type: 'binary',
    title: `Above ${strike.toFixed(2)}?`, subtitle: `${strike.toFixed(2)} or above`,
    yes_sub_title: `${strike.toFixed(2)} or above`, no_sub_title: `Below ${strike.toFixed(2)}`,
    open_time: rfc3339Seconds(closeMs - 24 * HOUR_MS), close_time: rfc3339Seconds(closeMs),
    expected_expiration_time: rfc3339Seconds(closeMs + 5 * 60_000),
    status: settled ? 'settled' : 'active',
    yes_bid: yesBid, yes_bid_dollars: dollars(yesBid), yes_ask: yesAsk, yes_ask_dollars: dollars(yesAsk),
    no_bid: 100 - yesAsk, no_bid_dollars: dollars(100 - yesAsk), no_ask: 100 - yesBid, no_ask_dollars: dollars(100 - yesBid),
    last_price: last, last_price_dollars: dollars(last),
    volume, volume_fp: fp(volume), volume_24h: Math.floor(volume / 2), open_interest: oi, open_interest_fp: fp(oi),
    result, expiration_value: settled ? strike.toFixed(2) : '', can_close_early: true,
    strike_type: 'greater', floor_strike: strike,
  };
}
