import type { Prng } from './prng.js';
import type { Rate } from './types.js';

/** 2026-02-12T17:00:00Z, the hour of the real February 2026 captures. */
export const DEFAULT_START_TIME_MS = Date.UTC(2026, 1, 12, 17, 0, 0);

/**
 * Virtual time that stamps generated data. It advances by a seeded step per data frame (about 1000/rate ms),
 * never from the wall clock, so the same seed gives byte-identical frames.
 */
export class VirtualClock {
  private us: number;
  private readonly meanStepUs: number;

  constructor(startMs: number, rate: Rate) {
    this.us = startMs * 1000;
    this.meanStepUs = rate === 'max' ? 1000 : Math.max(1, Math.round(1_000_000 / rate));
  }

  /** Advance by a jittered step (0.5x to 1.5x the mean). */
  tick(prng: Prng): void {
    this.us += Math.max(1, Math.round(this.meanStepUs * (0.5 + prng.next())));
  }

  nowUs(): number {
    return this.us;
  }

  nowMs(): number {
    return Math.floor(this.us / 1000);
  }

  nowSec(): number {
    return Math.floor(this.us / 1_000_000);
  }

  /** RFC 3339 with microseconds, e.g. `2026-02-12T17:00:00.544125Z`. */
  rfc3339(): string {
    return rfc3339Micros(this.us);
  }
}

export function rfc3339Micros(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // 2026-02-12T17:00:00.544Z
  const micros = String(us % 1_000_000).padStart(6, '0');
  return `${iso.slice(0, 19)}.${micros}Z`;
}

/** Whole-second RFC 3339 (`2026-02-12T17:00:00Z`), as REST objects carry. */
export function rfc3339Seconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}
