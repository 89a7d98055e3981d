import { describe, expect, it } from 'vitest';
import { describeCacheContract } from '../../../test/contracts/cache.contract.js';
import { SimulatedClock } from '../../src/middleware/clock.js';
import { MemoryCache } from '../../src/middleware/cache/memory.js';
import { openCache } from '../../src/middleware/cache/index.js';

describeCacheContract('memory', async () => {
  const clock = new SimulatedClock({ start: 1_700_000_000_000 });
  return { cache: new MemoryCache({ maxEntries: 100, maxBytes: 1 << 20, clock }), advance: (ms) => clock.advanceBy(ms) };
});

describe('MemoryCache', () => {
  const clock = () => new SimulatedClock({ start: 0 });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const cache = new MemoryCache({ maxEntries: 3, maxBytes: 1 << 20, clock: clock() });
    for (const k of ['a', 'b', 'c']) await cache.set(k, k, 1_000);
    expect(await cache.get('a')).toBe('a'); // a is now the most recent
    await cache.set('d', 'd', 1_000);
    expect(await cache.get('b')).toBeUndefined();
    expect(await Promise.all(['a', 'c', 'd'].map((k) => cache.get(k)))).toEqual(['a', 'c', 'd']);
    expect(cache.stats()).toMatchObject({ entries: 3, evictions: 1 });
  });

  it('evicts by total bytes (UTF-8 size of key + value)', async () => {
    const cache = new MemoryCache({ maxEntries: 100, maxBytes: 30, clock: clock() });
    await cache.set('k1', 'x'.repeat(8), 1_000); // 10 bytes
    await cache.set('k2', '€€', 1_000); // 2 + 6 = 8 bytes
    await cache.set('k3', 'y'.repeat(8), 1_000); // 10 bytes, total 28
    expect(cache.stats().bytes).toBe(28);
    await cache.set('k4', 'z'.repeat(8), 1_000); // needs k1 out
    expect(await cache.get('k1')).toBeUndefined();
    expect(await cache.get('k2')).toBe('€€');
    expect(cache.stats()).toMatchObject({ entries: 3, bytes: 28, evictions: 1 });
    await cache.set('huge', 'h'.repeat(40), 1_000); // larger than the whole cache: not stored
    expect(await cache.get('huge')).toBeUndefined();
    expect(cache.stats().entries).toBe(3);
  });

  it('drops expired entries before evicting live ones', async () => {
    const c = clock();
    const cache = new MemoryCache({ maxEntries: 2, maxBytes: 1 << 20, clock: c });
    await cache.set('live', '1', 10_000);
    await cache.set('short', '2', 100);
    await c.advanceBy(100);
    await cache.set('new', '3', 10_000);
    expect(await cache.get('live')).toBe('1');
    expect(await cache.get('new')).toBe('3');
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 0 });
  });

  it('keeps an entry until just before its TTL (simulated clock)', async () => {
    const c = clock();
    const cache = new MemoryCache({ clock: c });
    await cache.set('k', 'v', 1_000);
    await c.advanceBy(999);
    expect(await cache.get('k')).toBe('v');
    await c.advanceBy(1);
    expect(await cache.get('k')).toBeUndefined();
    expect(cache.stats().entries).toBe(0);
  });

  it('is what openCache({ kind: "memory" }) returns', async () => {
    const cache = await openCache({ kind: 'memory', maxEntries: 10 });
    expect(cache.kind).toBe('memory');
    await cache.close();
  });
});
