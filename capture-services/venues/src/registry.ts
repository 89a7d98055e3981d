import type { Feed, Venue } from '../../../core/src/environment/schema.js';
import type { Classification } from './classification.js';
import type { VenueFeedOverrides, WsFeedBase } from './ws-feed-base.js';
import * as kalshi from './kalshi/index.js';
import * as kraken from './kraken/index.js';
import * as polymarket from './polymarket/index.js';

/** What a connector needs from a venue: classify frames, shard instruments, build one shard's feed. */
export interface VenueAdapter {
  classify(bytes: Uint8Array): Classification;
  shard(instruments: readonly string[], maxPerConnection: number): string[][];
  /** Whether the venue's WebSocket needs credentials (Kalshi signs the upgrade). */
  needsCredentials: boolean;
  createFeed(feed: Feed, instruments: readonly string[], base: VenueFeedOverrides, credentials?: { value: Buffer; attributes: Record<string, string> }): WsFeedBase;
}

/** One entry per venue; the type makes a missing venue a compile error (style lesson 7). */
export const VENUES: Record<Venue, VenueAdapter> = {
  kalshi: {
    classify: kalshi.classify,
    shard: (i, max) => kalshi.shardMarkets(i, max),
    needsCredentials: true,
    createFeed(feed, markets, base, credentials) {
      if (feed.feed !== 'kalshi') throw new Error(`not a kalshi feed: ${feed.feed}`);
      const keyId = credentials?.attributes.key_id;
      if (!credentials || !keyId) throw new Error(`kalshi feed ${feed.name}: credentials must be a kalshi-rsa key with a key_id attribute`);
      return new kalshi.KalshiFeed({ ...base, credentials: { keyId, privateKeyPem: credentials.value.toString('utf8') }, markets, channels: feed.channels, maxPerConnection: feed.shards.max_per_connection });
    },
  },
  polymarket: {
    classify: polymarket.classify,
    shard: (i, max) => polymarket.shardAssets(i, max),
    needsCredentials: false,
    createFeed(feed, assets, base) {
      if (feed.feed !== 'polymarket') throw new Error(`not a polymarket feed: ${feed.feed}`);
      return new polymarket.PolymarketFeed({ ...base, assets, channels: feed.channels });
    },
  },
  kraken: {
    classify: kraken.classify,
    shard: (i, max) => kraken.shardPairs(i, max),
    needsCredentials: false,
    createFeed(feed, symbols, base) {
      if (feed.feed !== 'kraken') throw new Error(`not a kraken feed: ${feed.feed}`);
      return new kraken.KrakenFeed({ ...base, symbols, channels: feed.channels, bookDepth: feed.book_depth });
    },
  },
};
