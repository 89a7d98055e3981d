import type { Cache, CacheStats } from '../cache.js';
import { RealClock, type Clock } from '../clock.js';
import { assertTtl } from './index.js';

/** Options of {@link MemoryCache}; every bound is enforced on each `set`. */
export interface MemoryCacheOptions {
  /** Most entries kept (default 10 000). */
  maxEntries?: number;
  /** Most bytes kept, counting the UTF-8 size of keys and values (default 64 MiB). */
  maxBytes?: number;
  /** Clock for TTLs (default the wall clock; tests pass a SimulatedClock). */
  clock?: Clock;
}

/** {@link CacheStats} plus the current size of a {@link MemoryCache}. */
export interface MemoryCacheStats extends CacheStats {
  entries: number;
  bytes: number;
  /** Entries dropped to stay within the bounds (expired entries are not counted). */
  evictions: number;
}

interface Entry {
  value: string;
  expiresAt: number;
  bytes: number;
}

/**
 * In-process LRU cache bounded by entry count and total bytes, with a TTL per entry. Expired
 * entries are misses; they are removed when read and swept before evicting live ones on insert.
 */
export class MemoryCache implements Cache {
  readonly kind = 'memory' as const;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #clock: Clock;
  // Map iteration order is insertion order: the first entry is the least recently used.
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(opts: MemoryCacheOptions = {}) {
    this.#maxEntries = opts.maxEntries ?? 10_000;
    this.#maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    if (!(this.#maxEntries >= 1) || !(this.#maxBytes >= 1)) throw new RangeError('maxEntries and maxBytes must be >= 1');
    this.#clock = opts.clock ?? new RealClock();
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.expiresAt <= this.#clock.now()) {
      if (entry !== undefined) this.#remove(key, entry);
      this.#misses++;
      return undefined;
    }
    this.#entries.delete(key); // move to the most recently used end
    this.#entries.set(key, entry);
    this.#hits++;
    return entry.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    assertTtl(ttlMs);
    const old = this.#entries.get(key);
    if (old !== undefined) this.#remove(key, old);
    const bytes = Buffer.byteLength(key) + Buffer.byteLength(value);
    if (bytes > this.#maxBytes) return; // could never fit
    if (this.#entries.size >= this.#maxEntries || this.#bytes + bytes > this.#maxBytes) this.#sweepExpired();
    for (const [k, e] of this.#entries) {
      if (this.#entries.size < this.#maxEntries && this.#bytes + bytes <= this.#maxBytes) break;
      this.#remove(k, e);
      this.#evictions++;
    }
    this.#entries.set(key, { value, expiresAt: this.#clock.now() + ttlMs, bytes });
    this.#bytes += bytes;
  }

  async delete(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry !== undefined) this.#remove(key, entry);
  }

  stats(): MemoryCacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      errors: 0,
      entries: this.#entries.size,
      bytes: this.#bytes,
      evictions: this.#evictions,
    };
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #sweepExpired(): void {
    const now = this.#clock.now();
    for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#remove(k, e);
  }

  #remove(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}
