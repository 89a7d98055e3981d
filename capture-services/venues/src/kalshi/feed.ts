import type { KeyObject } from 'node:crypto';
import { WsFeedBase, feedOptions } from '../ws-feed-base.js';
import type { VenueFeedOverrides } from '../ws-feed-base.js';
import { KALSHI } from './config.js';
import type { KalshiChannel } from './config.js';
import { classify } from './messages.js';
import { chunkMarkets, kalshiAuthHeaders, loadKalshiKey, subscribeCommand, updateSubscriptionCommand } from './subscribe.js';
import type { KalshiCredentials } from './subscribe.js';

export interface KalshiFeedOptions extends VenueFeedOverrides {
  credentials: KalshiCredentials;
  /** This shard's market tickers (see `shardMarkets`). */
  markets: readonly string[];
  /** Default: every Kalshi channel. */
  channels?: readonly KalshiChannel[];
  /** Channels subscribed for all markets, on shard 0 only (default `market_lifecycle_v2`). */
  globalChannels?: readonly KalshiChannel[];
  /** Default 200, at most 256. */
  maxPerConnection?: number;
}

type Action = 'add_markets' | 'delete_markets';

/** One subscribe command on the current connection; `sids` fill in as its acks arrive. */
interface Group {
  id: number;
  markets: string[] | null;
  channels: readonly string[];
  sids: Map<string, number>;
  pending: Array<{ channel: string; action: Action; markets: string[] }>;
}

/**
 * Kalshi WS v2 for one shard: signed upgrade, subscribe in commands of ≤256 markets, `updateMarkets` without
 * reconnecting, and `gap` events when a sid's `seq` does not follow on (every sid starts at 1 on a new connection:
 * seq restarts after a reconnect). A `seq` that goes back is reported as a gap too (got < expected).
 */
export class KalshiFeed extends WsFeedBase {
  private readonly keyId: string;
  private readonly key: KeyObject;
  private readonly markets: Set<string>;
  private readonly perMarket: readonly KalshiChannel[];
  private readonly global: readonly KalshiChannel[];
  private readonly maxPerConnection: number;
  private nextId = 1;
  private groups: Group[] = [];
  private readonly lastSeq = new Map<number, number>();

  constructor(o: KalshiFeedOptions) {
    super(feedOptions(o, { feed: KALSHI.venue, url: KALSHI.wsUrl, staleAfterMs: KALSHI.staleAfterMs, heartbeat: KALSHI.heartbeat }));
    this.keyId = o.credentials.keyId;
    this.key = loadKalshiKey(o.credentials);
    this.maxPerConnection = Math.min(o.maxPerConnection ?? KALSHI.maxPerConnection, KALSHI.maxPerConnectionLimit);
    this.markets = new Set(o.markets);
    if (this.markets.size > this.maxPerConnection) {
      throw new RangeError(`kalshi: ${this.markets.size} markets on one connection; at most ${this.maxPerConnection} (use shardMarkets)`);
    }
    const channels = o.channels ?? KALSHI.channels;
    const globals = o.globalChannels ?? KALSHI.globalChannels;
    this.global = channels.filter((c) => globals.includes(c));
    this.perMarket = channels.filter((c) => !globals.includes(c));
  }

  /**
   * Add and remove markets on the live connection with `update_subscription` (or a new subscribe when every
   * subscription is full); when disconnected, the next connection subscribes the new set. Returns the added markets
   * that did not fit in `maxPerConnection` (open another shard for them).
   */
  updateMarkets(add: readonly string[], remove: readonly string[] = []): string[] {
    const removed = remove.filter((m) => this.markets.delete(m));
    const fresh = [...new Set(add)].filter((m) => !this.markets.has(m));
    const added = fresh.slice(0, Math.max(0, this.maxPerConnection - this.markets.size));
    for (const m of added) this.markets.add(m);
    if (this.conn !== undefined && this.perMarket.length > 0) {
      for (const g of this.groups) {
        const gone = g.markets?.filter((m) => removed.includes(m)) ?? [];
        if (g.markets === null || gone.length === 0) continue;
        g.markets = g.markets.filter((m) => !gone.includes(m));
        this.update(g, 'delete_markets', gone);
      }
      let rest = added;
      for (const g of this.groups) {
        const room = g.markets === null ? 0 : KALSHI.maxMarketsPerSubscription - g.markets.length;
        if (rest.length === 0 || room <= 0) continue;
        g.markets?.push(...rest.slice(0, room));
        this.update(g, 'add_markets', rest.slice(0, room));
        rest = rest.slice(room);
      }
      for (const chunk of chunkMarkets(rest)) this.send(this.subscribe(chunk, this.perMarket));
    }
    return fresh.slice(added.length);
  }

  protected override authHeaders(url: URL): Record<string, string> {
    return kalshiAuthHeaders(this.keyId, this.key, url.pathname, this.clock.now());
  }

  protected override onConnected(): void {
    this.nextId = 1;
    this.groups = [];
    this.lastSeq.clear();
  }

  protected override subscribeFrames(): string[] {
    const frames: string[] = [];
    if (this.shard === 0 && this.global.length > 0) frames.push(this.subscribe(null, this.global));
    if (this.perMarket.length > 0) for (const chunk of chunkMarkets([...this.markets])) frames.push(this.subscribe(chunk, this.perMarket));
    return frames;
  }

  protected override onFrame(bytes: Uint8Array, _isBinary: boolean, conn: string): void {
    const c = classify(bytes);
    if (c.exSeq !== undefined) {
      const { sid, seq } = c.exSeq;
      const expected = (this.lastSeq.get(sid) ?? 0) + 1;
      this.lastSeq.set(sid, seq);
      if (seq !== expected) this.emit({ kind: 'gap', conn, sid, expected, got: seq, at: this.clock.now() });
    } else if (c.kind === 'control' && c.type === 'subscribed') {
      const m = JSON.parse(Buffer.from(bytes).toString('utf8')) as { id?: number; msg?: { channel?: string; sid?: number } };
      const g = this.groups.find((x) => x.id === m.id);
      if (g === undefined || m.msg?.channel === undefined || m.msg.sid === undefined) return; // older servers omit msg
      g.sids.set(m.msg.channel, m.msg.sid);
      const ready = g.pending.filter((p) => p.channel === m.msg?.channel);
      g.pending = g.pending.filter((p) => p.channel !== m.msg?.channel);
      for (const p of ready) this.send(updateSubscriptionCommand(this.nextId++, m.msg.sid, p.markets, p.action));
    } else if (c.kind === 'error') {
      this.emit({ kind: 'error', conn, message: `kalshi: ${Buffer.from(bytes).toString('utf8').slice(0, 300)}` });
    }
  }

  private subscribe(markets: string[] | null, channels: readonly string[]): string {
    const g: Group = { id: this.nextId++, markets, channels, sids: new Map(), pending: [] };
    this.groups.push(g);
    return subscribeCommand(g.id, channels, markets ?? undefined);
  }

  /** `update_subscription` per channel sid; held until the sid's ack when it has not arrived yet. */
  private update(g: Group, action: Action, markets: string[]): void {
    for (const channel of g.channels) {
      const sid = g.sids.get(channel);
      if (sid === undefined) g.pending.push({ channel, action, markets });
      else this.send(updateSubscriptionCommand(this.nextId++, sid, markets, action));
    }
  }
}
