import type { Cache } from '../cache.js';
import type { MemoryCacheOptions } from './memory.js';
import type { RedisCacheOptions } from './redis.js';

/** Which cache to open; the implementation is imported on demand, so `memory` never loads ioredis. */
export type CacheConfig = ({ kind: 'memory' } & MemoryCacheOptions) | ({ kind: 'redis' } & RedisCacheOptions);

/** Open the cache named by `config.kind`. */
export async function openCache(config: CacheConfig): Promise<Cache> {
  switch (config.kind) {
    case 'memory': {
      const { MemoryCache } = await import('./memory.js');
      return new MemoryCache(config);
    }
    case 'redis': {
      const { openRedisCache } = await import('./redis.js');
      return openRedisCache(config);
    }
  }
}

/** Throws a RangeError unless `ttlMs` is a finite number > 0 (nothing is cached forever). */
export function assertTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`cache ttlMs must be a finite number > 0, got ${ttlMs}`);
}
