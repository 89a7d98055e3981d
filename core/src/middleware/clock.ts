/**
 * Every component takes a Clock (M16). Live code uses the real clock; replay and backtests use a
 * simulated one driven by recorded timestamps, at N× speed or as fast as possible, so timers and
 * sleeps fire in the same order on every run.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Nanoseconds since the epoch (receive times are recorded in ns). */
  nowNs(): bigint;
  /** Resolve after `ms` of this clock's time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Run `fn` after `ms` of this clock's time. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly id: number;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('aborted', 'AbortError');
}

/** The wall clock. */
export class RealClock implements Clock {
  #next = 1;
  readonly #timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  // Wall time at start plus monotonic time since: ns resolution that never goes backwards.
  readonly #epochNsAtHr0 = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

  nowNs(): bigint {
    return this.#epochNsAtHr0 + process.hrtime.bigint();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, setTimeout(() => {
      this.#timers.delete(id);
      fn();
    }, ms));
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    clearTimeout(this.#timers.get(handle.id));
    this.#timers.delete(handle.id);
  }
}

interface SimTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * Simulated time. Time moves only through `advanceTo` / `advanceBy` (called by a replay driver
 * with each recorded timestamp), firing due timers in (time, creation) order. With `speed` N the
 * driver is paced so N simulated seconds take one wall second; `'max'` never waits.
 */
export class SimulatedClock implements Clock {
  #now: number;
  #next = 1;
  #timers: SimTimer[] = [];
  readonly #speed: number | 'max';
  readonly #wall: Clock;
  #wallAnchor: { sim: number; wall: number } | undefined;

  constructor(opts: { start: number; speed?: number | 'max'; wall?: Clock }) {
    if (opts.speed !== undefined && opts.speed !== 'max' && !(opts.speed > 0)) throw new RangeError(`speed must be > 0 or 'max', got ${opts.speed}`);
    this.#now = opts.start;
    this.#speed = opts.speed ?? 'max';
    this.#wall = opts.wall ?? new RealClock();
  }

  now(): number {
    return this.#now;
  }

  nowNs(): bigint {
    return BigInt(Math.floor(this.#now)) * 1_000_000n;
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#timers.length;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.#next++, at: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    this.#timers.sort((a, b) => a.at - b.at || a.id - b.id);
    return { id: timer.id };
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle.id);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const h = this.setTimer(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        this.clearTimer(h);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Move time forward to `t`, firing every timer due on the way at its own time. Between
   * timers, pending promise callbacks run, so code awakened by one timer can set the next.
   * Paced by `speed` against the wall clock. Time never goes backwards: an earlier `t` is a no-op.
   */
  async advanceTo(t: number): Promise<void> {
    if (t < this.#now) return;
    for (;;) {
      const due = this.#timers[0];
      if (!due || due.at > t) break;
      await this.#pace(due.at);
      this.#timers.shift();
      this.#now = Math.max(this.#now, due.at);
      due.fn();
      await flushMicrotasks();
    }
    await this.#pace(t);
    this.#now = t;
    await flushMicrotasks();
  }

  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(this.#now + ms);
  }

  async #pace(target: number): Promise<void> {
    if (this.#speed === 'max') return;
    this.#wallAnchor ??= { sim: this.#now, wall: this.#wall.now() };
    const wallDue = this.#wallAnchor.wall + (target - this.#wallAnchor.sim) / this.#speed;
    const wait = wallDue - this.#wall.now();
    if (wait > 0) await this.#wall.sleep(wait);
  }
}

/** Let queued promise callbacks run (a few macrotask-free turns). */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
