import { Redis } from 'ioredis';
import type { Cache, CacheStats } from '../cache.js';
import { assertTtl } from './index.js';

/** Options of {@link openRedisCache}. */
export interface RedisCacheOptions {
  /** redis://host:port[/db] (or rediss://). */
  url: string;
  password?: string;
  /** Prepended to every key, e.g. `'<environment>:'`, so environments sharing a server never collide. */
  keyPrefix: string;
  /** A command without a reply within this long fails and counts as an error (default 250 ms). */
  commandTimeoutMs?: number;
  /** Give up one connection attempt after this long (default 1000 ms); reconnects continue in the background. */
  connectTimeoutMs?: number;
}

/**
 * Redis as a cache only: GET, SET PX and DEL, never pub/sub (the transport does fan-out; see the
 * brief of M12). Callers are never blocked by a down Redis: there is no offline queue, no retry of a
 * failed command and a short command timeout, so `get` answers a miss and `set`/`delete` drop the
 * write (each counted in `stats().errors`) while ioredis reconnects in the background.
 */
export class RedisCache implements Cache {
  readonly kind = 'redis' as const;
  readonly #client: Redis;
  #hits = 0;
  #misses = 0;
  #errors = 0;
  #lastError: unknown;

  /** Use {@link openRedisCache}. */
  constructor(client: Redis) {
    this.#client = client;
  }

  /** True while the connection is not ready: operations fail fast and are counted as errors. */
  get degraded(): boolean {
    return this.#client.status !== 'ready';
  }

  /** The most recent backend failure (for diagnostics), if any. */
  get lastError(): unknown {
    return this.#lastError;
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const value = await this.#client.get(key);
      if (value === null) {
        this.#misses++;
        return undefined;
      }
      this.#hits++;
      return value;
    } catch (err) {
      this.#failed(err);
      this.#misses++;
      return undefined;
    }
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    assertTtl(ttlMs);
    try {
      await this.#client.set(key, value, 'PX', Math.ceil(ttlMs));
    } catch (err) {
      this.#failed(err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.del(key);
    } catch (err) {
      this.#failed(err);
    }
  }

  stats(): CacheStats {
    return { hits: this.#hits, misses: this.#misses, errors: this.#errors };
  }

  async close(): Promise<void> {
    if (this.#client.status === 'ready') await this.#client.quit().catch(() => undefined);
    this.#client.disconnect();
  }

  #failed(err: unknown): void {
    this.#errors++;
    this.#lastError = err;
  }
}

/**
 * Open a Redis cache. Never throws because Redis is down: the first connection attempt is bounded
 * by `connectTimeoutMs`, and on failure the cache starts degraded and keeps reconnecting.
 */
export async function openRedisCache(opts: RedisCacheOptions): Promise<RedisCache> {
  if (opts.keyPrefix === '') throw new RangeError('keyPrefix is required (e.g. "<environment>:")');
  const client = new Redis(opts.url, {
    password: opts.password,
    keyPrefix: opts.keyPrefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: opts.commandTimeoutMs ?? 250,
    connectTimeout: opts.connectTimeoutMs ?? 1_000,
    // background reconnect: 100 ms, 200 ms, ... capped at 2 s, forever
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times - 1, 5), 2_000),
  });
  const cache = new RedisCache(client);
  // Without a listener ioredis prints every connection error; failures surface through stats().
  client.on('error', () => undefined);
  await client.connect().catch(() => undefined);
  return cache;
}
