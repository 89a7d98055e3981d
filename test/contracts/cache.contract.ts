/** The behaviour every Cache implementation must have (core/src/middleware/cache.ts). */
import { afterAll, describe, expect, it } from 'vitest';
import type { Cache } from '../../core/src/middleware/cache.js';
import { waitUntil } from '../harness/process.js';

/** A cache opened for the contract, with a way to let its time pass. */
export interface OpenedCache {
  cache: Cache;
  /**
   * Let `ms` of cache time pass: advance a simulated clock, or nothing for a backend with its own
   * real-time TTLs (the contract then polls for the expiry).
   */
  advance(ms: number): Promise<void>;
}

/**
 * Run the cache contract. `open(prefix)` returns a fresh cache whose keys live under `prefix`;
 * caches opened with different prefixes must not see each other's keys.
 */
export function describeCacheContract(name: string, open: (prefix: string) => Promise<OpenedCache>): void {
  describe(`Cache contract: ${name}`, () => {
    const opened: Cache[] = [];
    let n = 0;
    const fresh = async (prefix = `t${++n}-${Date.now()}:`): Promise<OpenedCache> => {
      const c = await open(prefix);
      opened.push(c.cache);
      return c;
    };
    afterAll(async () => {
      await Promise.all(opened.map((c) => c.close()));
    });

    it('sets, gets, overwrites and deletes', async () => {
      const { cache } = await fresh();
      expect(await cache.get('k')).toBeUndefined();
      await cache.set('k', 'v1', 60_000);
      expect(await cache.get('k')).toBe('v1');
      await cache.set('k', 'v2', 60_000);
      expect(await cache.get('k')).toBe('v2');
      await cache.delete('k');
      expect(await cache.get('k')).toBeUndefined();
      await cache.delete('never-set'); // no error
    });

    it('expires an entry after its TTL', async () => {
      const { cache, advance } = await fresh();
      const ttl = 150;
      await cache.set('short', 'x', ttl);
      await cache.set('long', 'y', 60_000);
      expect(await cache.get('short')).toBe('x');
      const start = Date.now();
      await advance(ttl + 1);
      await waitUntil(async () => (await cache.get('short')) === undefined, { timeoutMs: 3_000, intervalMs: 20 });
      expect(Date.now() - start).toBeLessThan(3_000);
      expect(await cache.get('long')).toBe('y');
    });

    it('requires a TTL > 0', async () => {
      const { cache } = await fresh();
      for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(cache.set('k', 'v', ttl)).rejects.toThrow(RangeError);
      }
      expect(await cache.get('k')).toBeUndefined();
    });

    it('round-trips unicode keys and values byte-exactly', async () => {
      const { cache } = await fresh();
      const key = 'sym:€/ΔΣ/😀\u0000tab\t';
      const value = 'price "1.5" ½ — 日本語 \u{1F4C8} \r\n\u0000 end';
      await cache.set(key, value, 60_000);
      expect(await cache.get(key)).toBe(value);
      expect(await cache.get('sym:€/ΔΣ/😀')).toBeUndefined();
    });

    it('isolates caches with different key prefixes', async () => {
      const a = (await fresh('envA:')).cache;
      const b = (await fresh('envB:')).cache;
      await a.set('shared', 'from-a', 60_000);
      await b.set('shared', 'from-b', 60_000);
      expect(await a.get('shared')).toBe('from-a');
      expect(await b.get('shared')).toBe('from-b');
      await a.delete('shared');
      expect(await a.get('shared')).toBeUndefined();
      expect(await b.get('shared')).toBe('from-b');
      await b.delete('shared');
    });

    it('counts hits and misses', async () => {
      const { cache } = await fresh();
      const before = cache.stats();
      await cache.set('h', '1', 60_000);
      await cache.get('h');
      await cache.get('h');
      await cache.get('missing');
      const after = cache.stats();
      expect(after.hits - before.hits).toBe(2);
      expect(after.misses - before.misses).toBe(1);
      expect(after.errors).toBe(before.errors);
    });
  });
}
