import type { VirtualClock } from '../common/clock.js';
import { Prng } from '../common/prng.js';
import type { KrakenInstrument } from './instruments.js';
import { CHECKSUM_LEVELS, bookChecksum, bookElement, channelFrame, fixed, tickerElement, tradeElement } from './protocol.js';
import type { LevelText } from './protocol.js';

/** A level in integer units: price in 10^-pair_decimals, qty in 10^-lot_decimals. */
interface Level {
  p: number;
  q: number;
}

/** One pair's full book (more levels than any client sees) and its ticker statistics. */
interface PairState {
  symbol: string;
  pd: number;
  ld: number;
  minQty: number;
  bids: Level[];
  asks: Level[];
  open: number;
  last: number;
  low: number;
  high: number;
  volume: number;
  tradeId: number;
}

/** Levels kept beyond the subscribed depth, so a deleted level can always be replaced from below. */
const RESERVE = 20;
const TRADE_SNAPSHOT = 50;

/** Seeded Kraken activity: a maintained book per pair, tickers and trades, all as fixed-decimal text. */
export class KrakenGenerator {
  private readonly prng: Prng;
  private readonly pairs = new Map<string, PairState>();

  constructor(seed: number, private readonly instruments: readonly KrakenInstrument[], readonly clock: VirtualClock) {
    this.prng = Prng.derive(seed, 'kraken-activity');
  }

  get rng(): Prng {
    return this.prng;
  }

  hasSymbol(symbol: string): boolean {
    return this.instruments.some((i) => i.symbol === symbol);
  }

  bookSnapshot(symbol: string, depth: number): string {
    const s = this.pair(symbol, depth);
    const bids = s.bids.slice(0, depth).map((l) => this.text(s, l));
    const asks = s.asks.slice(0, depth).map((l) => this.text(s, l));
    return channelFrame('book', 'snapshot', [bookElement(symbol, bids, asks, bookChecksum(asks, bids))]);
  }

  /**
   * 1–3 changes to the visible top `depth` levels: a new quantity, a deletion (`qty` 0, plus the level that comes
   * into range from below) or an insertion (the level pushed out is not deleted: clients truncate).
   */
  bookUpdate(symbol: string, depth: number): string {
    const s = this.pair(symbol, depth);
    const changed: { bids: LevelText[]; asks: LevelText[] } = { bids: [], asks: [] };
    const ops = 1 + (this.prng.chance(0.3) ? 1 : 0) + (this.prng.chance(0.1) ? 1 : 0);
    for (let i = 0; i < ops; i++) {
      const sideName = this.prng.chance(0.5) ? 'bids' : 'asks';
      this.changeSide(s, sideName, depth, changed[sideName]);
    }
    const top = Math.min(depth, CHECKSUM_LEVELS);
    const check = bookChecksum(s.asks.slice(0, top).map((l) => this.text(s, l)), s.bids.slice(0, top).map((l) => this.text(s, l)));
    return channelFrame('book', 'update', [bookElement(symbol, changed.bids, changed.asks, check, this.clock.rfc3339())]);
  }

  ticker(symbol: string, type: 'snapshot' | 'update'): string {
    const s = this.pair(symbol, 0);
    const bid = s.bids[0] ?? { p: 0, q: 0 };
    const ask = s.asks[0] ?? { p: 0, q: 0 };
    const change = s.last - s.open;
    return channelFrame('ticker', type, [tickerElement(symbol, {
      bid: fixed(bid.p, s.pd), bid_qty: fixed(bid.q, s.ld), ask: fixed(ask.p, s.pd), ask_qty: fixed(ask.q, s.ld),
      last: fixed(s.last, s.pd), volume: fixed(s.volume, s.ld), vwap: fixed(Math.round((s.open + s.last + s.low + s.high) / 4), s.pd),
      low: fixed(s.low, s.pd), high: fixed(s.high, s.pd), change: fixed(change, s.pd), change_pct: fixed(Math.round((change / s.open) * 10_000), 2),
    })]);
  }

  trades(symbol: string): string {
    const s = this.pair(symbol, 0);
    const n = this.prng.int(1, 3);
    const ts = this.clock.rfc3339();
    return channelFrame('trade', 'update', Array.from({ length: n }, () => this.trade(s, ts)));
  }

  /** The last 50 trades, sent on subscribe when `snapshot: true`. */
  tradeSnapshot(symbol: string): string {
    const s = this.pair(symbol, 0);
    return channelFrame('trade', 'snapshot', Array.from({ length: TRADE_SNAPSHOT }, () => this.trade(s, this.clock.rfc3339())));
  }

  private trade(s: PairState, ts: string): string {
    const side = this.prng.chance(0.5) ? 'buy' : 'sell';
    const top = side === 'buy' ? s.asks[0] : s.bids[0];
    const price = top?.p ?? s.last;
    const qty = this.prng.int(s.minQty, s.minQty * 200);
    s.last = price;
    s.low = Math.min(s.low, price);
    s.high = Math.max(s.high, price);
    s.volume += qty;
    return tradeElement(s.symbol, side, fixed(price, s.pd), fixed(qty, s.ld), this.prng.chance(0.7) ? 'market' : 'limit', ++s.tradeId, ts);
  }

  private changeSide(s: PairState, sideName: 'bids' | 'asks', depth: number, out: LevelText[]): void {
    const side = s[sideName];
    const visible = Math.min(depth, side.length);
    const r = this.prng.next();
    if (r < 0.25 && side.length > 1) {
      const [gone] = side.splice(this.prng.int(0, visible - 1), 1);
      if (gone !== undefined) out.push(this.text(s, { p: gone.p, q: 0 }));
      const entering = side[depth - 1];
      if (entering !== undefined && side.length >= depth) out.push(this.text(s, entering));
      this.replenish(s, sideName, depth);
      return;
    }
    if (r < 0.55) {
      const inserted = this.insert(s, sideName, depth);
      if (inserted !== undefined) return void out.push(this.text(s, inserted));
    }
    const level = side[this.prng.int(0, visible - 1)];
    if (level === undefined) return;
    level.q = this.qty(s);
    out.push(this.text(s, level));
  }

  /** A new price strictly inside the visible range (or improving the best without crossing). */
  private insert(s: PairState, sideName: 'bids' | 'asks', depth: number): Level | undefined {
    const side = s[sideName];
    const dir = sideName === 'bids' ? 1 : -1; // +1: better is higher
    const best = side[0];
    const worst = side[Math.min(depth, side.length) - 1];
    const opposite = (sideName === 'bids' ? s.asks : s.bids)[0];
    if (best === undefined || worst === undefined || opposite === undefined) return undefined;
    for (let attempt = 0; attempt < 4; attempt++) {
      const p = best.p + dir * this.prng.int(-Math.abs(best.p - worst.p), 2);
      const inside = dir * (p - worst.p) > 0 && dir * (opposite.p - p) > 0 && p > 0;
      if (!inside || side.some((l) => l.p === p)) continue;
      const level = { p, q: this.qty(s) };
      const at = side.findIndex((l) => dir * (p - l.p) > 0);
      side.splice(at < 0 ? side.length : at, 0, level);
      return level;
    }
    return undefined;
  }

  private replenish(s: PairState, sideName: 'bids' | 'asks', depth: number): void {
    const side = s[sideName];
    const dir = sideName === 'bids' ? -1 : 1; // direction of worse prices
    while (side.length < depth + RESERVE) {
      const far = side[side.length - 1];
      const p = (far?.p ?? s.last) + dir * this.prng.int(1, 3);
      if (p <= 0) return;
      side.push({ p, q: this.qty(s) });
    }
  }

  private pair(symbol: string, depth: number): PairState {
    let s = this.pairs.get(symbol);
    if (s === undefined) {
      const inst = this.instruments.find((i) => i.symbol === symbol);
      if (inst === undefined) throw new Error(`kraken simulator: unknown symbol ${symbol}`);
      const pd = inst.pair.pair_decimals;
      const ld = inst.pair.lot_decimals;
      const mid = Math.round(Number(inst.price) * 10 ** pd);
      s = {
        symbol, pd, ld, minQty: Math.max(1, Math.round(Number(inst.pair.ordermin) * 10 ** ld)), bids: [{ p: mid - 1, q: 0 }], asks: [{ p: mid + 1, q: 0 }],
        open: mid, last: mid, low: mid, high: mid, volume: 0, tradeId: Prng.derive(0, symbol).int(1_000_000, 9_000_000),
      };
      for (const l of [...s.bids, ...s.asks]) l.q = this.qty(s);
      this.pairs.set(symbol, s);
    }
    this.replenish(s, 'bids', depth);
    this.replenish(s, 'asks', depth);
    return s;
  }

  private qty(s: PairState): number {
    return this.prng.int(s.minQty, s.minQty * 2000);
  }

  private text(s: PairState, l: Level): LevelText {
    return { price: fixed(l.p, s.pd), qty: fixed(l.q, s.ld) };
  }
}
