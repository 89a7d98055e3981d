import { WsFeedBase, feedOptions } from '../ws-feed-base.js';
import type { VenueFeedOverrides } from '../ws-feed-base.js';
import { KRAKEN } from './config.js';
import type { KrakenBookDepth, KrakenChannel } from './config.js';
import { pingRequest, subscribeRequest } from './subscribe.js';

export interface KrakenFeedOptions extends VenueFeedOverrides {
  /** This shard's v2 symbols (`BTC/USD`; see `shardPairs`). */
  symbols: readonly string[];
  /** Default: ticker, trade and book. */
  channels?: readonly KrakenChannel[];
  /** Environment `book_depth` (default 10). */
  bookDepth?: KrakenBookDepth;
}

const FAILURE = Buffer.from('"success":false');

/**
 * Kraken spot WS v2 for one shard: one subscribe request per channel after every open, an app-level ping with a
 * fresh `req_id`, and an `error` event for each refused symbol. Frames are passed on untouched: the book checksum
 * needs the exact decimal text.
 */
export class KrakenFeed extends WsFeedBase {
  private readonly symbols: readonly string[];
  private readonly channels: readonly KrakenChannel[];
  private readonly bookDepth: KrakenBookDepth;
  private reqId = 0;

  constructor(o: KrakenFeedOptions) {
    super(feedOptions(o, { feed: KRAKEN.venue, url: KRAKEN.wsUrl, staleAfterMs: KRAKEN.staleAfterMs, heartbeat: KRAKEN.heartbeat }));
    this.symbols = [...new Set(o.symbols)];
    if (this.symbols.length > KRAKEN.maxPerConnectionLimit) {
      throw new RangeError(`kraken: ${this.symbols.length} pairs on one connection; at most ${KRAKEN.maxPerConnectionLimit} (use shardPairs)`);
    }
    this.channels = o.channels ?? KRAKEN.channels;
    this.bookDepth = o.bookDepth ?? KRAKEN.bookDepth;
  }

  protected override onConnected(): void {
    this.reqId = 0;
  }

  protected override subscribeFrames(): string[] {
    if (this.symbols.length === 0) return [];
    return this.channels.map((c) => subscribeRequest(c, this.symbols, { depth: this.bookDepth, reqId: ++this.reqId }));
  }

  protected override heartbeatFrame(): string {
    return pingRequest(++this.reqId);
  }

  protected override onFrame(bytes: Uint8Array, _isBinary: boolean, conn: string): void {
    if (bytes.length > 4096) return; // method replies are small; data frames never carry "success"
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    if (b.indexOf(FAILURE) >= 0) this.emit({ kind: 'error', conn, message: `kraken: ${b.toString('utf8').slice(0, 300)}` });
  }
}
