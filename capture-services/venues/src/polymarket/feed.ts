import { WsFeedBase, feedOptions } from '../ws-feed-base.js';
import type { VenueFeedOverrides } from '../ws-feed-base.js';
import { POLYMARKET } from './config.js';
import type { PolymarketChannel } from './config.js';
import { subscribeMessage } from './subscribe.js';

export interface PolymarketFeedOptions extends VenueFeedOverrides {
  /** This shard's token ids (see `shardAssets`), at most 500. */
  assets: readonly string[];
  /** Event types wanted (default all). `custom_feature_enabled` is set when any of best_bid_ask, new_market, market_resolved is. */
  channels?: readonly PolymarketChannel[];
}

/**
 * Polymarket CLOB market channel for one shard: one subscribe message after every open (no ack; books arrive at
 * once), a text `PING` every 10 s (the `PONG` answers are frames like any other).
 */
export class PolymarketFeed extends WsFeedBase {
  private readonly assets: readonly string[];
  private readonly customFeature: boolean;

  constructor(o: PolymarketFeedOptions) {
    super(feedOptions(o, { feed: POLYMARKET.venue, url: POLYMARKET.wsUrl, staleAfterMs: POLYMARKET.staleAfterMs, heartbeat: POLYMARKET.heartbeat }));
    this.assets = [...new Set(o.assets)];
    if (this.assets.length > POLYMARKET.maxPerConnection) {
      throw new RangeError(`polymarket: ${this.assets.length} assets on one connection; at most ${POLYMARKET.maxPerConnection} (use shardAssets)`);
    }
    this.customFeature = (o.channels ?? POLYMARKET.channels).some((c) => POLYMARKET.customFeatureChannels.includes(c));
  }

  protected override subscribeFrames(): string[] {
    return this.assets.length === 0 ? [] : [subscribeMessage(this.assets, this.customFeature)];
  }

  protected override heartbeatFrame(): string {
    return POLYMARKET.ping;
  }

  protected override onFrame(bytes: Uint8Array, _isBinary: boolean, conn: string): void {
    // `INVALID OPERATION` is the server's only in-band error; the 500-asset cap closes the connection (1008).
    if (bytes.length === 17 && Buffer.from(bytes).toString('latin1') === 'INVALID OPERATION') {
      this.emit({ kind: 'error', conn, message: 'polymarket: server answered INVALID OPERATION' });
    }
  }
}
