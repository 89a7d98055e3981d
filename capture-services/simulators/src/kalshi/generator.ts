import type { VirtualClock } from '../common/clock.js';
import { Prng } from '../common/prng.js';
import type { KalshiInstruments } from './instruments.js';
import { dollars, fp } from './protocol.js';
import type { KalshiWire } from './protocol.js';

/** One market's state: YES and NO bid books (Kalshi books are bids only), last trade, volume. */
interface MarketState {
  ticker: string;
  eventTicker: string;
  marketId: string;
  yes: Map<number, number>;
  no: Map<number, number>;
  last: number;
  volume: number;
  oi: number;
  lastTradeSize: number;
  lifecycleStep: number;
}

export type LifecycleMessage = { type: 'market_lifecycle_v2' | 'event_lifecycle'; msg: string };

const LIFECYCLE_EVENTS = ['created', 'activated', 'deactivated', 'close_date_updated', 'metadata_updated', 'closed', 'determined', 'settled'] as const;

/**
 * Seeded Kalshi market activity. Each method mutates the market a little and returns a `msg` body as JSON
 * text in the configured wire shape (field order as in the real captures).
 */
export class KalshiGenerator {
  private readonly prng: Prng;
  private readonly markets = new Map<string, MarketState>();
  private readonly tradable: string[];
  private clockCounter: number;

  constructor(private readonly seed: number, private readonly inst: KalshiInstruments, private readonly wire: KalshiWire, readonly clock: VirtualClock) {
    this.prng = Prng.derive(seed, 'kalshi-activity');
    this.tradable = inst.markets.filter((m) => m.status === 'active' || m.status === 'open').map((m) => m.ticker);
    this.clockCounter = 13_281_240_000 + this.prng.int(0, 999_999);
  }

  get rng(): Prng {
    return this.prng;
  }

  /** Tickers a global subscription covers. */
  globalTickers(): readonly string[] {
    return this.tradable;
  }

  ticker(ticker: string, moveBook: boolean): string {
    const m = this.market(ticker);
    if (moveBook) this.randomDelta(m);
    if (this.prng.chance(0.5)) this.trade(m);
    this.clockCounter += this.prng.int(1, 200);
    const { yesBid, yesAsk, bidSize, askSize } = top(m);
    const price = m.last;
    const ts = this.clock.nowSec();
    const dv = Math.floor(m.volume / 2);
    const doi = Math.floor(m.oi / 2);
    if (this.wire === 'cents') {
      return JSON.stringify({
        market_id: m.marketId, market_ticker: m.ticker, price, yes_bid: yesBid, yes_ask: yesAsk, price_dollars: dollars(price),
        yes_bid_dollars: dollars(yesBid), yes_ask_dollars: dollars(yesAsk), volume: m.volume, open_interest: m.oi,
        dollar_volume: dv, dollar_open_interest: doi, ts, Clock: this.clockCounter,
      });
    }
    if (this.wire === 'dollars') {
      return JSON.stringify({
        market_id: m.marketId, market_ticker: m.ticker, price_dollars: dollars(price), yes_bid_dollars: dollars(yesBid),
        yes_ask_dollars: dollars(yesAsk), yes_bid_size_fp: fp(bidSize), yes_ask_size_fp: fp(askSize), volume_fp: fp(m.volume),
        open_interest_fp: fp(m.oi), last_trade_size_fp: fp(m.lastTradeSize), dollar_volume: dv, dollar_open_interest: doi,
        time: this.clock.rfc3339(), ts, ts_ms: this.clock.nowMs(),
      });
    }
    return JSON.stringify({
      market_id: m.marketId, market_ticker: m.ticker, price, yes_bid: yesBid, yes_ask: yesAsk, price_dollars: dollars(price),
      yes_bid_dollars: dollars(yesBid), yes_ask_dollars: dollars(yesAsk), volume: m.volume, volume_fp: fp(m.volume),
      open_interest: m.oi, open_interest_fp: fp(m.oi), dollar_volume: dv, dollar_open_interest: doi,
      yes_bid_size_fp: fp(bidSize), yes_ask_size_fp: fp(askSize), last_trade_size_fp: fp(m.lastTradeSize), ts, Clock: this.clockCounter,
    });
  }

  tradeMsg(ticker: string): string {
    const m = this.market(ticker);
    const { yesPrice, count, takerSide } = this.trade(m);
    const base = { trade_id: this.prng.uuid(), market_ticker: m.ticker };
    const ts = this.clock.nowSec();
    if (this.wire === 'cents') return JSON.stringify({ ...base, yes_price: yesPrice, no_price: 100 - yesPrice, count, taker_side: takerSide, ts });
    if (this.wire === 'dollars') {
      return JSON.stringify({ ...base, yes_price_dollars: dollars(yesPrice), no_price_dollars: dollars(100 - yesPrice), count_fp: fp(count), taker_side: takerSide, ts });
    }
    return JSON.stringify({
      ...base, yes_price: yesPrice, no_price: 100 - yesPrice, yes_price_dollars: dollars(yesPrice), no_price_dollars: dollars(100 - yesPrice),
      count, count_fp: fp(count), taker_side: takerSide, ts,
    });
  }

  snapshotMsg(ticker: string): string {
    const m = this.market(ticker);
    const cents = (book: Map<number, number>): number[][] => [...book.entries()].sort((a, b) => a[0] - b[0]);
    const dollarLevels = (book: Map<number, number>): Array<[string, number]> => cents(book).map(([p, q]) => [dollars(p as number), q as number]);
    const head = { market_ticker: m.ticker, market_id: m.marketId };
    if (this.wire === 'cents') return JSON.stringify({ ...head, yes: cents(m.yes), no: cents(m.no) });
    if (this.wire === 'dollars') return JSON.stringify({ ...head, yes_dollars: dollarLevels(m.yes), no_dollars: dollarLevels(m.no) });
    return JSON.stringify({ ...head, yes: cents(m.yes), no: cents(m.no), yes_dollars: dollarLevels(m.yes), no_dollars: dollarLevels(m.no) });
  }

  deltaMsg(ticker: string): string {
    const m = this.market(ticker);
    const { side, price, delta } = this.randomDelta(m);
    const head = { market_ticker: m.ticker, market_id: m.marketId };
    const ts = this.clock.rfc3339();
    if (this.wire === 'cents') return JSON.stringify({ ...head, price, delta, side, ts });
    if (this.wire === 'dollars') return JSON.stringify({ ...head, price_dollars: dollars(price), delta_fp: fp(delta), side, ts });
    return JSON.stringify({ ...head, price, price_dollars: dollars(price), delta, delta_fp: fp(delta), side, ts });
  }

  /** A `market_lifecycle_v2` (80%) or `event_lifecycle` (20%) message, both arriving on the lifecycle channel. */
  lifecycle(ticker: string): LifecycleMessage {
    const m = this.market(ticker);
    const event = this.inst.events.find((e) => e.event_ticker === m.eventTicker);
    if (this.prng.chance(0.2)) {
      const strike = Math.floor(Date.parse(event?.strike_date ?? '') / 1000) || this.clock.nowSec() + 3600;
      return {
        type: 'event_lifecycle',
        msg: JSON.stringify({
          event_ticker: m.eventTicker, title: event?.title ?? m.eventTicker, sub_title: event?.sub_title ?? '',
          collateral_return_type: this.prng.pick(['MECNET', 'DIRECNET']), series_ticker: m.eventTicker.split('-')[0] ?? '',
          strike_date: strike, strike_period: 'hour',
        }),
      };
    }
    const eventType = LIFECYCLE_EVENTS[m.lifecycleStep++ % LIFECYCLE_EVENTS.length] as (typeof LIFECYCLE_EVENTS)[number];
    const now = this.clock.nowSec();
    const body: Record<string, unknown> = { market_ticker: m.ticker, event_ticker: m.eventTicker, event_type: eventType };
    if (eventType === 'created') {
      Object.assign(body, { open_ts: now, close_ts: now + 3600, additional_metadata: { name: m.ticker, title: `Market ${m.ticker}`, strike_type: 'greater', expected_expiration_ts: now + 3900 } });
    } else if (eventType === 'close_date_updated') body.close_ts = now + 7200;
    else if (eventType === 'deactivated') body.is_deactivated = true;
    else if (eventType === 'activated') body.is_deactivated = false;
    else if (eventType === 'closed') body.close_ts = now;
    else if (eventType === 'metadata_updated') body.additional_metadata = { title: `Market ${m.ticker} (updated)` };
    else if (eventType === 'determined' || eventType === 'settled') {
      const result = this.prng.chance(0.5) ? 'yes' : 'no';
      const cents = result === 'yes' ? 100 : 0;
      const asCents = this.wire === 'cents' || (this.wire === 'both' && this.prng.chance(0.5));
      Object.assign(body, eventType === 'determined' ? { determination_ts: now } : { settled_ts: now });
      Object.assign(body, { result, settlement_value: asCents ? cents : dollars(cents) });
    }
    return { type: 'market_lifecycle_v2', msg: JSON.stringify(body) };
  }

  private market(ticker: string): MarketState {
    let m = this.markets.get(ticker);
    if (m === undefined) {
      m = this.newMarket(ticker);
      this.markets.set(ticker, m);
    }
    return m;
  }

  /** Markets are created lazily, seeded by ticker, so unknown tickers get data too. */
  private newMarket(ticker: string): MarketState {
    const r = Prng.derive(this.seed, `kalshi-market:${ticker}`);
    const def = this.inst.markets.find((x) => x.ticker === ticker);
    const yesBid = Math.max(1, Math.min(97, def?.yes_bid ?? r.int(5, 90)));
    const yesAsk = Math.max(yesBid + 1, Math.min(99, def?.yes_ask ?? yesBid + r.int(1, 5)));
    const yes = new Map<number, number>();
    const no = new Map<number, number>();
    for (let i = 0; i < 5 && yesBid - i >= 1; i++) yes.set(yesBid - i, r.int(1, 5000));
    for (let i = 0; i < 5 && 100 - yesAsk - i >= 1; i++) no.set(100 - yesAsk - i, r.int(1, 5000));
    return {
      ticker, eventTicker: def?.event_ticker ?? ticker.split('-').slice(0, -1).join('-'), marketId: r.uuid(), yes, no,
      last: def?.last_price ?? yesBid, volume: def?.volume ?? r.int(0, 50_000), oi: def?.open_interest ?? r.int(0, 10_000),
      lastTradeSize: 0, lifecycleStep: 0,
    };
  }

  private trade(m: MarketState): { yesPrice: number; count: number; takerSide: 'yes' | 'no' } {
    const { yesBid, yesAsk } = top(m);
    const yesPrice = Math.max(1, Math.min(99, this.prng.int(yesBid, yesAsk)));
    const count = this.prng.int(1, 100);
    m.last = yesPrice;
    m.volume += count;
    m.oi += this.prng.int(-Math.min(m.oi, count), count);
    m.lastTradeSize = count;
    return { yesPrice, count, takerSide: this.prng.chance(0.5) ? 'yes' : 'no' };
  }

  /** Change one level (never crossing: best YES bid + best NO bid < 100); a level reaching 0 is removed. */
  private randomDelta(m: MarketState, forced?: 'yes' | 'no'): { side: 'yes' | 'no'; price: number; delta: number } {
    const side = forced ?? (this.prng.chance(0.5) ? 'yes' : 'no');
    const book = side === 'yes' ? m.yes : m.no;
    const other = side === 'yes' ? m.no : m.yes;
    const ceiling = 99 - bestOf(other);
    if (book.size === 0 && ceiling < 1) return this.randomDelta(m, side === 'yes' ? 'no' : 'yes');
    const best = bestOf(book);
    if (book.size > 0 && (this.prng.chance(0.6) || ceiling < 1)) {
      const price = this.prng.pick([...book.keys()]);
      const qty = book.get(price) ?? 0;
      let delta = this.prng.int(-qty, qty);
      if (delta === 0) delta = 1;
      if (qty + delta <= 0) book.delete(price);
      else book.set(price, qty + delta);
      return { side, price, delta };
    }
    const price = Math.max(1, Math.min(ceiling, this.prng.int(Math.max(1, best - 8), best + 1)));
    const delta = this.prng.int(1, 1000);
    book.set(price, (book.get(price) ?? 0) + delta);
    return { side, price, delta };
  }
}

function bestOf(book: Map<number, number>): number {
  let best = 0;
  for (const p of book.keys()) if (p > best) best = p;
  return best;
}

/** YES bid is the best YES bid; YES ask is 100 − the best NO bid (protocols.md). */
function top(m: MarketState): { yesBid: number; yesAsk: number; bidSize: number; askSize: number } {
  const yesBid = bestOf(m.yes);
  const noBid = bestOf(m.no);
  return { yesBid, yesAsk: 100 - noBid, bidSize: m.yes.get(yesBid) ?? 0, askSize: m.no.get(noBid) ?? 0 };
}
