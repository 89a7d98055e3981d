/**
 * Cache (M12): caching only, never pub/sub. Redis or an in-memory LRU with TTLs; used for
 * secmaster lookups and latest snapshots. A cache that cannot reach its server answers misses and
 * drops writes (counted in `stats()`), so the system keeps working. Passes `test/contracts/cache.contract.ts`.
 */
export interface CacheStats {
  hits: number;
  misses: number;
  /** Operations that failed because the backend was unreachable (each also counted as a miss or dropped write). */
  errors: number;
}

export interface Cache {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | undefined>;
  /** `ttlMs` is required: nothing is cached forever. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  stats(): CacheStats;
  close(): Promise<void>;
}
