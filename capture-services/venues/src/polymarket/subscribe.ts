import { shardList } from '../classification.js';
import { POLYMARKET } from './config.js';
import type { PolymarketSubscribe, PolymarketSubscriptionUpdate } from './messages.js';

/** `{"assets_ids":[...],"type":"market","custom_feature_enabled":true}`, sent once after connecting (no ack). */
export function subscribeMessage(assets: readonly string[], customFeature = true): string {
  if (assets.length > POLYMARKET.maxPerConnection) {
    throw new RangeError(`polymarket: ${assets.length} assets on one connection; at most ${POLYMARKET.maxPerConnection}`);
  }
  const m: PolymarketSubscribe = { assets_ids: [...assets], type: 'market', custom_feature_enabled: customFeature };
  return JSON.stringify(m);
}

/**
 * Add or remove assets on an open connection: `{"assets_ids":[...],"operation":"subscribe"|"unsubscribe"}`. From
 * Polymarket's public docs, not protocols.md (the simulator accepts it).
 */
export function subscriptionUpdate(assets: readonly string[], operation: 'subscribe' | 'unsubscribe'): string {
  const m: PolymarketSubscriptionUpdate = { assets_ids: [...assets], operation };
  return JSON.stringify(m);
}

export function unsubscribeMessage(assets: readonly string[]): string {
  return subscriptionUpdate(assets, 'unsubscribe');
}

/** Asset (token) ids → shards (one connection each) of at most `maxPerConnection` (default and limit 500). */
export function shardAssets(assets: readonly string[], maxPerConnection: number = POLYMARKET.maxPerConnection): string[][] {
  if (maxPerConnection > POLYMARKET.maxPerConnection) {
    throw new RangeError(`polymarket: max_per_connection ${maxPerConnection} is over ${POLYMARKET.maxPerConnection}`);
  }
  return shardList(assets, maxPerConnection);
}
