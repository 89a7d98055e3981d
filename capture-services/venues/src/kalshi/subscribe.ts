import { constants, createPrivateKey, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SsmdError } from '../../../../core/src/errors.js';
import { shardList } from '../classification.js';
import { KALSHI } from './config.js';
import type { KalshiSubscribeCommand, KalshiUnsubscribeCommand, KalshiUpdateSubscriptionCommand } from './messages.js';

/** What the client sends: the signed login headers, subscription commands, and the sharding of markets. */

/** An API key id and its RSA private key (PEM, PKCS#1 or PKCS#8), as resolved from the key store. */
export interface KalshiCredentials {
  keyId: string;
  privateKeyPem: string;
}

/** The upgrade's signed login headers: RSA-PSS SHA-256 (MGF1-SHA256, salt = digest length), base64, over `{ts}GET{path}`. */
export function kalshiAuthHeaders(keyId: string, key: KeyObject, path: string, nowMs: number): Record<string, string> {
  const ts = String(Math.floor(nowMs));
  const signature = sign('sha256', Buffer.from(`${ts}GET${path}`), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  return { 'KALSHI-ACCESS-KEY': keyId, 'KALSHI-ACCESS-TIMESTAMP': ts, 'KALSHI-ACCESS-SIGNATURE': signature.toString('base64') };
}

export function loadKalshiKey(c: KalshiCredentials): KeyObject {
  try {
    const key = createPrivateKey(c.privateKeyPem);
    if (key.asymmetricKeyType === 'rsa') return key;
  } catch (cause) {
    throw new SsmdError(`kalshi: key ${c.keyId} is not a PEM private key (PKCS#1 or PKCS#8)`, { code: 'KALSHI_BAD_KEY', cause });
  }
  throw new SsmdError(`kalshi: key ${c.keyId} is not an RSA key`, { code: 'KALSHI_BAD_KEY' });
}

/**
 * `{"id":1,"cmd":"subscribe","params":{"channels":[...],"market_tickers":[...]}}`. Without markets the subscription is
 * global (ticker, trade and market_lifecycle_v2 only). At most 256 markets (use `chunkMarkets`).
 */
export function subscribeCommand(id: number, channels: readonly string[], markets?: readonly string[]): string {
  if (markets !== undefined && markets.length > KALSHI.maxMarketsPerSubscription) {
    throw new RangeError(`kalshi: ${markets.length} markets in one subscription; at most ${KALSHI.maxMarketsPerSubscription}`);
  }
  const cmd: KalshiSubscribeCommand = { id, cmd: 'subscribe', params: { channels: [...channels] } };
  if (markets !== undefined) cmd.params.market_tickers = [...markets];
  return JSON.stringify(cmd);
}

export function unsubscribeCommand(id: number, sids: readonly number[]): string {
  const cmd: KalshiUnsubscribeCommand = { id, cmd: 'unsubscribe', params: { sids: [...sids] } };
  return JSON.stringify(cmd);
}

/** Add markets to, or delete them from, one existing subscription (its `sid`) without reconnecting. */
export function updateSubscriptionCommand(id: number, sid: number, markets: readonly string[], action: 'add_markets' | 'delete_markets'): string {
  const cmd: KalshiUpdateSubscriptionCommand = { id, cmd: 'update_subscription', params: { sids: [sid], market_tickers: [...markets], action } };
  return JSON.stringify(cmd);
}

/** Markets in groups of at most 256, one subscription command each. */
export function chunkMarkets(markets: readonly string[], size: number = KALSHI.maxMarketsPerSubscription): string[][] {
  return shardList(markets, Math.min(size, KALSHI.maxMarketsPerSubscription));
}

/** Markets → shards (one connection each) of at most `maxPerConnection` (default 200, at most 256). */
export function shardMarkets(markets: readonly string[], maxPerConnection: number = KALSHI.maxPerConnection): string[][] {
  if (maxPerConnection > KALSHI.maxPerConnectionLimit) {
    throw new RangeError(`kalshi: max_per_connection ${maxPerConnection} is over ${KALSHI.maxPerConnectionLimit}`);
  }
  return shardList(markets, maxPerConnection);
}
