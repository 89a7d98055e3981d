import type { SimConnection, VenueSession } from '../common/connection.js';
import type { KrakenGenerator } from './generator.js';
import { BOOK_DEPTHS, CHANNELS, DEFAULT_BOOK_DEPTH, ERRORS, HEARTBEAT, methodError, methodSuccess, pong } from './protocol.js';
import type { KrakenChannel } from './protocol.js';

interface Subscription {
  channel: KrakenChannel;
  symbol: string;
  depth: number;
}

interface Request {
  method: string;
  reqId: number | undefined;
  params: Record<string, unknown>;
}

/** Per-channel defaults of `snapshot` (Kraken v2 docs: true for ticker and book, false for trade). */
const SNAPSHOT_DEFAULT: Readonly<Record<KrakenChannel, boolean>> = { ticker: true, book: true, trade: false };

/** One spot WS v2 connection: subscribe/unsubscribe with one result per symbol, ping/pong, heartbeats, data. */
export class KrakenSession implements VenueSession {
  private readonly subs = new Map<string, Subscription>();
  private readonly methods: Record<string, (r: Request) => void> = {
    subscribe: (r) => this.subscribe(r),
    unsubscribe: (r) => this.unsubscribe(r),
    ping: (r) => this.conn.control(pong(r.reqId, ...this.times())),
  };

  constructor(private readonly conn: SimConnection, private readonly gen: KrakenGenerator, heartbeatMs: number) {
    conn.every(heartbeatMs, () => {
      if (this.subs.size > 0) conn.heartbeat(HEARTBEAT);
    });
  }

  onMessage(text: string): void {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return this.conn.control(methodError(undefined, undefined, ERRORS.malformed, undefined, ...this.times()));
    }
    const o = isObject(v) ? v : {};
    const reqId = typeof o.req_id === 'number' ? o.req_id : undefined;
    const method = typeof o.method === 'string' ? o.method : undefined;
    const handler = method === undefined ? undefined : this.methods[method];
    if (method === undefined || handler === undefined) {
      return this.conn.control(methodError(method, reqId, method === undefined ? ERRORS.malformed : ERRORS.unknownMethod(method), undefined, ...this.times()));
    }
    handler({ method, reqId, params: isObject(o.params) ? o.params : {} });
  }

  nextFrame(): string | undefined {
    if (this.subs.size === 0) return undefined;
    this.gen.clock.tick(this.gen.rng);
    const sub = this.gen.rng.pick([...this.subs.values()]);
    if (sub.channel === 'book') return this.gen.bookUpdate(sub.symbol, sub.depth);
    if (sub.channel === 'ticker') return this.gen.ticker(sub.symbol, 'update');
    return this.gen.trades(sub.symbol);
  }

  /** Replay: every line as it is, once something is subscribed. */
  replayFrame(line: string): string | 'wait' {
    return this.subs.size > 0 ? line : 'wait';
  }

  private subscribe(r: Request): void {
    const checked = this.check(r);
    if (checked === undefined) return;
    const { channel, symbols, depth } = checked;
    const snapshot = typeof r.params.snapshot === 'boolean' ? r.params.snapshot : SNAPSHOT_DEFAULT[channel];
    const refused = this.conn.takeSubscriptionRefusal();
    for (const symbol of symbols) {
      const error = refused ? ERRORS.subscriptionLimit : !this.gen.hasSymbol(symbol) ? ERRORS.unknownSymbol(symbol) : this.subs.has(key(channel, symbol)) ? ERRORS.alreadySubscribed : undefined;
      if (error !== undefined) {
        this.conn.control(methodError('subscribe', r.reqId, error, symbol, ...this.times()));
        continue;
      }
      this.subs.set(key(channel, symbol), { channel, symbol, depth });
      const result = channel === 'book' ? { channel, depth, snapshot, symbol } : { channel, snapshot, symbol };
      this.conn.control(methodSuccess('subscribe', r.reqId, result, ...this.times()));
      if (snapshot && !this.conn.replaying) this.conn.data(this.snapshot(channel, symbol, depth));
    }
  }

  private unsubscribe(r: Request): void {
    const checked = this.check(r);
    if (checked === undefined) return;
    const { channel, symbols, depth } = checked;
    for (const symbol of symbols) {
      if (!this.subs.delete(key(channel, symbol))) {
        this.conn.control(methodError('unsubscribe', r.reqId, ERRORS.notSubscribed, symbol, ...this.times()));
        continue;
      }
      const result = channel === 'book' ? { channel, depth, symbol } : { channel, symbol };
      this.conn.control(methodSuccess('unsubscribe', r.reqId, result, ...this.times()));
    }
  }

  /** Validate `params.channel`, `params.symbol` and the book `depth`; answer the request-level error if bad. */
  private check(r: Request): { channel: KrakenChannel; symbols: string[]; depth: number } | undefined {
    const { channel, symbol } = r.params;
    const depth = r.params.depth ?? DEFAULT_BOOK_DEPTH;
    let error: string | undefined;
    if (typeof channel !== 'string' || !(CHANNELS as readonly string[]).includes(channel)) error = ERRORS.unknownChannel(String(channel));
    else if (!Array.isArray(symbol) || symbol.length === 0 || !symbol.every((s) => typeof s === 'string')) error = ERRORS.symbolRequired;
    else if (channel === 'book' && !(BOOK_DEPTHS as readonly unknown[]).includes(depth)) error = ERRORS.badDepth(depth);
    if (error !== undefined) {
      this.conn.control(methodError(r.method, r.reqId, error, undefined, ...this.times()));
      return undefined;
    }
    return { channel: channel as KrakenChannel, symbols: symbol as string[], depth: depth as number };
  }

  private snapshot(channel: KrakenChannel, symbol: string, depth: number): string {
    if (channel === 'book') return this.gen.bookSnapshot(symbol, depth);
    if (channel === 'ticker') return this.gen.ticker(symbol, 'snapshot');
    return this.gen.tradeSnapshot(symbol);
  }

  /** `time_in` and `time_out` (RFC 3339, µs) from the virtual clock. */
  private times(): [string, string] {
    const t = this.gen.clock.rfc3339();
    return [t, t];
  }
}

const key = (channel: string, symbol: string): string => `${channel}|${symbol}`;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
