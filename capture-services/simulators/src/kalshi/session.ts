import type { SimConnection, VenueSession } from '../common/connection.js';
import type { KalshiGenerator } from './generator.js';
import {
  CHANNEL_OF_TYPE, DATA_CHANNELS, ERR, GLOBAL_CHANNELS, MAX_MARKETS_PER_SUBSCRIPTION, PRIVATE_CHANNELS, SEQUENCED_TYPES,
  dataFrame, errorFrame, okFrame, subscribedFrame, unsubscribedFrame,
} from './protocol.js';
import type { KalshiError } from './protocol.js';

interface Subscription {
  sid: number;
  channel: string;
  /** null: a global subscription (all markets). */
  markets: string[] | null;
  seq: number;
}

interface Command {
  id: number | undefined;
  params: Record<string, unknown>;
}

/** Weight of a lifecycle subscription against 10 for each market-data one: lifecycle messages are occasional. */
const LIFECYCLE_WEIGHT = 1;
const DATA_WEIGHT = 10;
/** With only lifecycle subscriptions, a tick emits a lifecycle message with this probability. */
const LIFECYCLE_ONLY_CHANCE = 0.05;

/** One Kalshi WS connection: commands, acks, per-sid seq, paced data. */
export class KalshiSession implements VenueSession {
  private readonly subs = new Map<number, Subscription>();
  private nextSid = 1;
  private pendingSkip = 0;
  private readonly commands: Record<string, (c: Command) => void> = {
    subscribe: (c) => this.subscribe(c),
    unsubscribe: (c) => this.unsubscribe(c),
    update_subscription: (c) => this.updateSubscription(c),
  };

  constructor(private readonly conn: SimConnection, private readonly gen: KalshiGenerator, private readonly authenticated: boolean) {}

  onMessage(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.conn.control(errorFrame(undefined, ERR.unableToProcess));
    }
    const o = isObject(parsed) ? parsed : {};
    const id = typeof o.id === 'number' ? o.id : undefined;
    const handler = typeof o.cmd === 'string' ? this.commands[o.cmd] : undefined;
    if (handler === undefined) return this.conn.control(errorFrame(id, ERR.unknownCommand));
    if (!isObject(o.params)) return this.conn.control(errorFrame(id, ERR.invalidParameters, 'params required'));
    handler({ id, params: o.params });
  }

  nextFrame(): string | undefined {
    const data = [...this.subs.values()].filter((s) => (DATA_CHANNELS as readonly string[]).includes(s.channel));
    if (data.length === 0) return undefined;
    this.gen.clock.tick(this.gen.rng);
    const weights = data.map((s) => (s.channel === 'market_lifecycle_v2' ? LIFECYCLE_WEIGHT : DATA_WEIGHT));
    const sub = data[this.gen.rng.weighted(weights)] as Subscription;
    const tickers = sub.markets ?? this.gen.globalTickers();
    if (tickers.length === 0) return undefined;
    const ticker = this.gen.rng.pick(tickers);
    switch (sub.channel) {
      case 'ticker':
        return dataFrame('ticker', sub.sid, undefined, this.gen.ticker(ticker, !this.bookSubscribed(ticker)));
      case 'trade':
        return dataFrame('trade', sub.sid, this.nextSeq(sub), this.gen.tradeMsg(ticker));
      case 'orderbook_delta':
        return dataFrame('orderbook_delta', sub.sid, this.nextSeq(sub), this.gen.deltaMsg(ticker));
      default: {
        if (weights.every((w) => w === LIFECYCLE_WEIGHT) && !this.gen.rng.chance(LIFECYCLE_ONLY_CHANCE)) return undefined;
        const { type, msg } = this.gen.lifecycle(ticker);
        return dataFrame(type, sub.sid, undefined, msg);
      }
    }
  }

  /** Replay: route the line to this client's subscription for its channel and rewrite `sid`; keep `seq`. */
  replayFrame(line: string): string | undefined | 'wait' {
    if (this.subs.size === 0) return 'wait';
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return line; // a malformed capture line is replayed as it is
    }
    if (!isObject(parsed) || typeof parsed.type !== 'string') return undefined;
    const channel = CHANNEL_OF_TYPE[parsed.type];
    const ticker = isObject(parsed.msg) && typeof parsed.msg.market_ticker === 'string' ? parsed.msg.market_ticker : undefined;
    const candidates = [...this.subs.values()].filter((s) => s.channel === channel);
    const sub =
      candidates.find((s) => ticker !== undefined && s.markets?.includes(ticker) === true) ??
      candidates.find((s) => s.markets === null) ??
      candidates[0];
    return sub === undefined ? undefined : line.replace(/"sid":\s*\d+/, `"sid":${sub.sid}`);
  }

  sequenceGap(skip: number): boolean {
    this.pendingSkip += skip;
    return true;
  }

  private nextSeq(sub: Subscription): number {
    sub.seq += 1 + this.pendingSkip;
    this.pendingSkip = 0;
    return sub.seq;
  }

  private bookSubscribed(ticker: string): boolean {
    for (const s of this.subs.values()) if (s.channel === 'orderbook_delta' && s.markets?.includes(ticker)) return true;
    return false;
  }

  private subscribe({ id = 0, params }: Command): void {
    const channels = params.channels;
    if (!Array.isArray(channels) || channels.length === 0 || !channels.every((c) => typeof c === 'string')) {
      return this.error(id, ERR.invalidParameters, 'channels required');
    }
    const markets = marketsOf(params);
    if (markets === 'invalid') return this.error(id, ERR.invalidParameters, 'market_tickers must be a list of strings');
    if (this.conn.takeSubscriptionRefusal() || (markets !== null && markets.length > MAX_MARKETS_PER_SUBSCRIPTION)) {
      return this.error(id, ERR.tooManyMarkets);
    }
    for (const channel of channels as string[]) {
      const refusal = this.checkChannel(channel, markets);
      if (refusal !== undefined) {
        this.error(id, refusal.error, refusal.detail);
        continue;
      }
      const sub: Subscription = { sid: this.nextSid++, channel, markets: markets === null ? null : [...new Set(markets)], seq: 0 };
      this.subs.set(sub.sid, sub);
      this.conn.control(subscribedFrame(id, channel, sub.sid));
      if (channel === 'orderbook_delta') this.sendSnapshots(sub, sub.markets ?? []);
    }
  }

  private checkChannel(channel: string, markets: string[] | null): { error: KalshiError; detail: string } | undefined {
    const isPrivate = (PRIVATE_CHANNELS as readonly string[]).includes(channel);
    if (!isPrivate && !(DATA_CHANNELS as readonly string[]).includes(channel)) return { error: ERR.unknownChannel, detail: channel };
    if (isPrivate && !this.authenticated) return { error: ERR.authRequired, detail: channel };
    if (markets === null && !isPrivate && !GLOBAL_CHANNELS.has(channel)) return { error: ERR.invalidParameters, detail: `${channel} requires market_tickers` };
    for (const s of this.subs.values()) {
      if (s.channel !== channel) continue;
      if (s.markets === null || markets === null || markets.some((m) => s.markets?.includes(m))) {
        return { error: ERR.alreadySubscribed, detail: `${channel} sid ${s.sid}` };
      }
    }
    return undefined;
  }

  private unsubscribe({ id = 0, params }: Command): void {
    const sids = params.sids;
    if (!Array.isArray(sids) || sids.length === 0) return this.error(id, ERR.invalidParameters, 'sids required');
    for (const sid of sids) {
      const sub = typeof sid === 'number' ? this.subs.get(sid) : undefined;
      if (sub === undefined) {
        this.error(id, ERR.notSubscribed, `sid ${String(sid)}`);
        continue;
      }
      this.subs.delete(sub.sid);
      this.conn.control(unsubscribedFrame(id, sub.sid, sub.seq));
    }
  }

  private updateSubscription({ id = 0, params }: Command): void {
    const sids = Array.isArray(params.sids) ? params.sids : params.sid !== undefined ? [params.sid] : [];
    if (sids.length !== 1) return this.error(id, ERR.invalidParameters, 'exactly one sid required');
    const sub = typeof sids[0] === 'number' ? this.subs.get(sids[0]) : undefined;
    if (sub === undefined) return this.error(id, ERR.notSubscribed, `sid ${String(sids[0])}`);
    const markets = marketsOf(params);
    if (markets === null || markets === 'invalid') return this.error(id, ERR.invalidParameters, 'market_tickers required');
    if (sub.markets === null) return this.error(id, ERR.invalidParameters, 'a global subscription has no markets to update');
    if (params.action === 'add_markets') {
      const added = markets.filter((m) => !sub.markets?.includes(m));
      if (sub.markets.length + added.length > MAX_MARKETS_PER_SUBSCRIPTION || this.conn.takeSubscriptionRefusal()) {
        return this.error(id, ERR.tooManyMarkets);
      }
      sub.markets.push(...added);
      this.conn.control(okFrame(id, sub.sid, sub.seq, sub.markets));
      if (sub.channel === 'orderbook_delta') this.sendSnapshots(sub, added);
      return;
    }
    if (params.action === 'delete_markets') {
      sub.markets = sub.markets.filter((m) => !markets.includes(m));
      return this.conn.control(okFrame(id, sub.sid, sub.seq, sub.markets));
    }
    this.error(id, ERR.invalidParameters, 'action must be add_markets or delete_markets');
  }

  /** orderbook_delta starts each market with an `orderbook_snapshot` (seq 1 on a new sid), sent right after the ack. */
  private sendSnapshots(sub: Subscription, markets: readonly string[]): void {
    if (this.conn.replaying) return;
    for (const m of markets) this.conn.data(dataFrame('orderbook_snapshot', sub.sid, this.nextSeq(sub), this.gen.snapshotMsg(m)));
  }

  private error(id: number, e: KalshiError, detail?: string): void {
    this.conn.control(errorFrame(id, e, detail));
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `market_ticker` (single) or `market_tickers`; null when neither (a global subscription). */
function marketsOf(params: Record<string, unknown>): string[] | null | 'invalid' {
  const many = params.market_tickers;
  const one = params.market_ticker;
  if (many === undefined && one === undefined) return null;
  const list = [...(Array.isArray(many) ? many : many === undefined ? [] : [many]), ...(one === undefined ? [] : [one])];
  return list.every((m): m is string => typeof m === 'string') ? list : 'invalid';
}
