import type { VirtualClock } from '../common/clock.js';
import { Prng } from '../common/prng.js';
import { conditionId, marketsOf, parseList, tokenId } from './instruments.js';
import type { PolymarketInstruments } from './instruments.js';
import * as P from './protocol.js';

export type PriceChangeFormat = 'current' | 'legacy' | 'both';

/** One condition: the YES book in mils (thousandths) → size in hundredths; the NO book is its mirror image. */
interface Market {
  condition: string;
  tokens: string[];
  outcomes: string[];
  bids: Map<number, number>;
  asks: Map<number, number>;
  /** Tick in mils: 10 (0.01) or 1 (0.001) near the extremes. */
  tick: number;
  last: number;
  resolved: boolean;
}

/** Tick 0.001 above 0.96 and below 0.04, 0.01 elsewhere (initial books). */
const FINE_ABOVE = 960;
const FINE_BELOW = 40;
const NEAR_HIGH = 940;
const NEAR_LOW = 60;
const TICK_CHANGE_CHANCE = 0.03;

/** Seeded activity on the subscribed tokens: price changes, trades, books and the custom-feature events. */
export class PolymarketGenerator {
  private readonly prng: Prng;
  private readonly byAsset = new Map<string, { market: Market; index: number }>();
  /** Follow-up frames (best_bid_ask, tick_size_change, book after a trade), each for one asset. */
  private readonly queue: Array<{ asset: string; text: string }> = [];

  constructor(private readonly seed: number, inst: PolymarketInstruments, readonly clock: VirtualClock, private readonly format: PriceChangeFormat) {
    this.prng = Prng.derive(seed, 'polymarket-activity');
    for (const { market, tokens, outcomes } of marketsOf(inst)) {
      const yes = Math.round(Number(parseList(market.outcomePrices)[0] ?? 0.5) * 1000);
      const m = this.newMarket(market.conditionId, tokens, outcomes, yes);
      tokens.forEach((t, index) => this.byAsset.set(t, { market: m, index }));
    }
  }

  get rng(): Prng {
    return this.prng;
  }

  /** The `book` object of one asset (bids ascending, asks descending: best last). */
  book(assetId: string, withEventType: boolean): string {
    const { market: m, index } = this.asset(assetId);
    const [bids, asks] = this.sides(m, index);
    return P.bookObject({
      assetId, market: m.condition, hash: this.prng.hex(40), tickSize: P.price(m.tick), timestamp: this.clock.nowMs(), withEventType,
      bids: [...bids.entries()].sort((a, b) => a[0] - b[0]).map(([p, s]) => ({ price: P.price(p), size: P.size(s) })),
      asks: [...asks.entries()].sort((a, b) => b[0] - a[0]).map(([p, s]) => ({ price: P.price(p), size: P.size(s) })),
      lastTradePrice: (index === 0 ? m.last / 1000 : (1000 - m.last) / 1000).toFixed(3),
    });
  }

  /** The next frame for a connection subscribed to `assets`. */
  next(assets: readonly string[], custom: boolean): string | undefined {
    if (assets.length === 0) return undefined;
    this.clock.tick(this.prng);
    for (let q = this.queue.shift(); q !== undefined; q = this.queue.shift()) {
      if (assets.includes(q.asset)) return q.text; // dropped if unsubscribed meanwhile
    }
    const assetId = this.prng.pick(assets);
    const { market: m } = this.asset(assetId);
    const subscribed = m.tokens.filter((t) => assets.includes(t));
    const r = this.prng.next();
    if (r < 0.6 || (!custom && r >= 0.9)) return this.priceChange(m, subscribed, custom);
    if (r < 0.85) return this.trade(m, assetId);
    if (r < 0.9) return this.book(assetId, true);
    if (r < 0.97) return this.bestBidAsk(m, assetId);
    if (r < 0.99) return this.newMarket$();
    return m.resolved ? this.priceChange(m, subscribed, custom) : this.resolve(m);
  }

  private priceChange(m: Market, subscribed: string[], custom: boolean): string {
    const onBids = this.prng.chance(0.5);
    const before = top(m);
    const { price, size } = this.changeLevel(m, onBids);
    const after = top(m);
    const ts = this.clock.nowMs();
    if (custom && (before.bid !== after.bid || before.ask !== after.ask)) {
      for (const t of subscribed) this.queue.push({ asset: t, text: this.bestBidAsk(m, t) });
    }
    this.checkTick(m, subscribed, onBids);
    const legacy = this.format === 'legacy' || (this.format === 'both' && this.prng.chance(0.5));
    if (legacy) {
      const t = this.prng.pick(subscribed);
      const yes = m.tokens.indexOf(t) === 0;
      const side: 'BUY' | 'SELL' = onBids === yes ? 'BUY' : 'SELL';
      return P.priceChangeLegacy(m.condition, t, [{ price: P.price(yes ? price : 1000 - price), side, size: P.size(size) }], this.prng.hex(40), ts);
    }
    const changes = subscribed.map((t): P.PriceChangeEntry => {
      const yes = m.tokens.indexOf(t) === 0;
      const [bid, ask] = yes ? [after.bid, after.ask] : [1000 - after.ask, 1000 - after.bid];
      return {
        asset_id: t, price: P.price(yes ? price : 1000 - price), size: P.size(size), side: onBids === yes ? 'BUY' : 'SELL',
        hash: this.prng.hex(40), best_bid: P.price(Math.max(0, bid)), best_ask: P.price(Math.min(1000, ask)),
      };
    });
    return P.priceChange(m.condition, changes, ts);
  }

  /** Modify, remove or add one YES level near the top, on the tick grid, never crossing. */
  private changeLevel(m: Market, onBids: boolean): { price: number; size: number } {
    const book = onBids ? m.bids : m.asks;
    const { bid, ask } = top(m);
    const r = this.prng.next();
    if (book.size > 3 && r < 0.5) {
      const near = [...book.keys()].sort((a, b) => (onBids ? b - a : a - b)).slice(0, 5);
      const price = this.prng.pick(near);
      const size = this.prng.chance(0.2) ? 0 : this.prng.int(100, 1_000_000);
      if (size === 0) book.delete(price);
      else book.set(price, size);
      return { price, size };
    }
    const best = onBids ? bid : ask;
    const step = this.prng.int(-1, 10) * m.tick;
    let price = Math.round((onBids ? best - step : best + step) / m.tick) * m.tick;
    price = onBids ? Math.max(m.tick, Math.min(price, ask - m.tick)) : Math.min(1000 - m.tick, Math.max(price, bid + m.tick));
    if (onBids ? price >= ask : price <= bid) {
      // no room on the grid: add to the current best instead (or between the sides when that one is empty)
      price = onBids ? (bid > 0 ? bid : Math.max(1, Math.floor(ask / 2))) : ask < 1000 ? ask : Math.min(999, Math.ceil((bid + 1000) / 2));
    }
    const size = (book.get(price) ?? 0) + this.prng.int(100, 500_000);
    book.set(price, size);
    return { price, size };
  }

  /**
   * protocols.md: `tick_size_change` is sent near the extremes (above 0.96 or below 0.04). A synthetic book rarely
   * crosses those lines, so markets near them (best bid above 0.94 or best ask below 0.06) switch tick at random
   * on 3% of their price changes.
   */
  private checkTick(m: Market, subscribed: string[], onBids: boolean): void {
    const { bid, ask } = top(m);
    if (!(bid > NEAR_HIGH || ask < NEAR_LOW) || !this.prng.chance(TICK_CHANGE_CHANCE)) return;
    const next = m.tick === 10 ? 1 : 10;
    if (next === m.tick) return;
    const ts = this.clock.nowMs();
    for (const t of subscribed) this.queue.push({ asset: t, text: P.tickSizeChange(m.condition, t, P.price(m.tick), P.price(next), onBids ? 'BUY' : 'SELL', ts) });
    m.tick = next;
  }

  /** A taker trade at the top of `assetId`'s book; sometimes followed by that asset's `book`. */
  private trade(m: Market, assetId: string): string {
    const yes = m.tokens.indexOf(assetId) === 0;
    const side: 'BUY' | 'SELL' = this.prng.chance(0.5) ? 'BUY' : 'SELL';
    const hitsYesAsks = (side === 'BUY') === yes;
    const book = hitsYesAsks ? m.asks : m.bids;
    const { bid, ask } = top(m);
    const yesPrice = hitsYesAsks ? ask : bid;
    const available = book.get(yesPrice) ?? 0;
    const size = Math.max(1, Math.min(available, this.prng.int(1, 10_000)));
    if (available - size <= 0) book.delete(yesPrice);
    else book.set(yesPrice, available - size);
    m.last = yesPrice;
    if (this.prng.chance(0.3)) this.queue.push({ asset: assetId, text: this.book(assetId, true) });
    return P.lastTradePrice({
      assetId, market: m.condition, price: P.price(yes ? yesPrice : 1000 - yesPrice), side, size: P.size(size),
      timestamp: this.clock.nowMs(), txHash: `0x${this.prng.hex(64)}`,
    });
  }

  private bestBidAsk(m: Market, assetId: string): string {
    const { bid, ask } = top(m);
    const yes = m.tokens.indexOf(assetId) === 0;
    return yes ? P.bestBidAsk(m.condition, assetId, bid, ask, this.clock.nowMs()) : P.bestBidAsk(m.condition, assetId, 1000 - ask, 1000 - bid, this.clock.nowMs());
  }

  private newMarket$(): string {
    const n = this.prng.int(1, 99);
    return P.newMarket({
      market: conditionId(this.prng), question: `Will Bitcoin reach $${70 + n}k in February?`, slug: `bitcoin-${70 + n}k-february`,
      assetsIds: [tokenId(this.prng), tokenId(this.prng)], outcomes: ['Yes', 'No'], timestamp: this.clock.nowMs(),
    });
  }

  /** Each condition resolves at most once; activity goes on afterwards (a simplification). */
  private resolve(m: Market): string {
    m.resolved = true;
    const index = this.prng.int(0, m.tokens.length - 1);
    return P.marketResolved(m.condition, m.tokens[index] ?? '', m.outcomes[index] ?? 'Yes', this.clock.nowMs());
  }

  /** Unknown asset ids get a seeded market of their own, so any id can be subscribed. */
  private asset(assetId: string): { market: Market; index: number } {
    let a = this.byAsset.get(assetId);
    if (a === undefined) {
      const r = Prng.derive(this.seed, `polymarket-asset:${assetId}`);
      a = { market: this.newMarket(conditionId(r), [assetId], ['Yes'], r.int(100, 900)), index: 0 };
      this.byAsset.set(assetId, a);
    }
    return a;
  }

  private newMarket(condition: string, tokens: string[], outcomes: string[], yesMils: number): Market {
    const r = Prng.derive(this.seed, `polymarket-book:${condition}`);
    const tick = yesMils > FINE_ABOVE || yesMils < FINE_BELOW ? 1 : 10;
    const mid = Math.max(2 * tick, Math.min(1000 - 2 * tick, Math.round(yesMils / tick) * tick));
    const bids = new Map<number, number>();
    const asks = new Map<number, number>();
    for (let i = 1; i <= 15; i++) {
      if (mid - i * tick > 0) bids.set(mid - i * tick, r.int(100, 2_000_000));
      if (mid + i * tick < 1000) asks.set(mid + i * tick, r.int(100, 2_000_000));
    }
    return { condition, tokens, outcomes, bids, asks, tick, last: mid, resolved: false };
  }

  /** [bids, asks] of token `index`: YES as stored, NO mirrored (NO bid at 1 − p for a YES ask at p). */
  private sides(m: Market, index: number): [Map<number, number>, Map<number, number>] {
    if (index === 0) return [m.bids, m.asks];
    const mirror = (src: Map<number, number>): Map<number, number> => new Map([...src.entries()].map(([p, s]) => [1000 - p, s]));
    return [mirror(m.asks), mirror(m.bids)];
  }
}

function top(m: Market): { bid: number; ask: number } {
  let bid = 0;
  let ask = 1000;
  for (const p of m.bids.keys()) if (p > bid) bid = p;
  for (const p of m.asks.keys()) if (p < ask) ask = p;
  return { bid, ask };
}
