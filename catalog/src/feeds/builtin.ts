import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import { addFeedVersion, registerFeed, type FeedVersionInput } from './feed.repository.js';

/**
 * The feeds ssmd knows how to capture, with each wire-protocol era as a feed version (M1). The
 * version boundaries are the single source of truth for selecting a parser by date (style lesson 4).
 * Sources: shared/guide/protocols.md.
 */
export const BUILTIN_FEEDS: ReadonlyArray<{ name: string; venue: 'kalshi' | 'polymarket' | 'kraken'; description: string; versions: FeedVersionInput[] }> = [
  {
    name: 'kalshi', venue: 'kalshi', description: 'Kalshi trade API v2 WebSocket (RSA-PSS signed) and REST secmaster',
    versions: [
      {
        protocol_version: 'ws-v2-cents', effective_from: new Date('2024-01-01T00:00:00Z'),
        endpoints: { ws: 'wss://api.elections.kalshi.com/trade-api/ws/v2', rest: 'https://api.elections.kalshi.com/trade-api/v2' },
        channels: ['ticker', 'trade', 'orderbook_delta', 'market_lifecycle_v2'],
      },
      {
        // Legacy cent price fields were deprecated on 2026-03-05; dollar/fixed-point fields from then on.
        protocol_version: 'ws-v2-dollars', effective_from: new Date('2026-03-05T00:00:00Z'),
        endpoints: { ws: 'wss://api.elections.kalshi.com/trade-api/ws/v2', rest: 'https://api.elections.kalshi.com/trade-api/v2' },
        channels: ['ticker', 'trade', 'orderbook_delta', 'market_lifecycle_v2'],
      },
    ],
  },
  {
    name: 'polymarket', venue: 'polymarket', description: 'Polymarket CLOB market channel WebSocket and Gamma REST discovery',
    versions: [{
      protocol_version: 'clob-ws-market-v1', effective_from: new Date('2024-01-01T00:00:00Z'),
      endpoints: { ws: 'wss://ws-subscriptions-clob.polymarket.com/ws/market', rest: 'https://gamma-api.polymarket.com' },
      channels: ['book', 'price_change', 'last_trade_price', 'best_bid_ask', 'tick_size_change', 'new_market', 'market_resolved'],
    }],
  },
  {
    name: 'kraken', venue: 'kraken', description: 'Kraken spot WebSocket v2 and AssetPairs REST',
    versions: [{
      protocol_version: 'spot-ws-v2', effective_from: new Date('2024-01-01T00:00:00Z'),
      endpoints: { ws: 'wss://ws.kraken.com/v2', rest: 'https://api.kraken.com/0/public' },
      channels: ['ticker', 'trade', 'book'],
    }],
  },
];

/** Register the built-in feeds and their versions; idempotent. */
export async function seedBuiltinFeeds(db: Kysely<Database>): Promise<number> {
  let created = 0;
  for (const feed of BUILTIN_FEEDS) {
    await registerFeed(db, feed);
    for (const v of feed.versions) if ((await addFeedVersion(db, feed.name, v)).created) created += 1;
  }
  return created;
}
