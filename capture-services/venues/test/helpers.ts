import { RealClock } from '../../../core/src/middleware/clock.js';
import type { Clock, TimerHandle } from '../../../core/src/middleware/clock.js';
import type { SentFrame, SimulatorHandle } from '../../simulators/src/index.js';
import type { FeedEvent, WsFeedBase } from '../src/ws-feed-base.js';

/** Poll until truthy (shared with the simulator tests). */
export { waitFor } from '../../test/simulators/helpers.js';

/** Read every event of a feed in the background. */
export interface Collector {
  events: FeedEvent[];
  done: Promise<void>;
  frames(conn?: string): Array<Extract<FeedEvent, { kind: 'frame' }>>;
  of<K extends FeedEvent['kind']>(kind: K): Array<Extract<FeedEvent, { kind: K }>>;
  /** Conn ids in the order they connected. */
  conns(): string[];
}

export function collect(feed: WsFeedBase): Collector {
  const events: FeedEvent[] = [];
  const done = (async () => {
    for await (const e of feed.events()) events.push(e);
  })();
  const of = <K extends FeedEvent['kind']>(kind: K): Array<Extract<FeedEvent, { kind: K }>> =>
    events.filter((e): e is Extract<FeedEvent, { kind: K }> => e.kind === kind);
  return {
    events, done, of,
    frames: (conn) => of('frame').filter((f) => conn === undefined || f.conn === conn),
    conns: () => of('connected').map((e) => e.conn),
  };
}

/** A RealClock that counts its pending timers and sleeps, to prove a stopped feed leaves none behind. */
export class CountingClock implements Clock {
  private readonly real = new RealClock();
  readonly timers = new Set<number>();
  sleeping = 0;
  now(): number {
    return this.real.now();
  }
  nowNs(): bigint {
    return this.real.nowNs();
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeping++;
    try {
      await this.real.sleep(ms, signal);
    } finally {
      this.sleeping--;
    }
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    const h = this.real.setTimer(() => {
      this.timers.delete(h.id);
      fn();
    }, ms);
    this.timers.add(h.id);
    return h;
  }
  clearTimer(h: TimerHandle): void {
    this.timers.delete(h.id);
    this.real.clearTimer(h);
  }
  get pending(): number {
    return this.timers.size + this.sleeping;
  }
}

/** The bytes a simulator recorded for one of its connections (`c1`, `c2`, ...), in send order. */
export function sentBytes(sim: SimulatorHandle, connectionId: string): Buffer[] {
  return sim
    .sent()
    .filter((f: SentFrame) => f.connectionId === connectionId)
    .sort((a, b) => a.seq - b.seq)
    .map((f) => Buffer.from(f.text, f.binary ? 'latin1' : 'utf8'));
}

/** Received frame bytes of one conn, in connSeq order (connSeq must run 1, 2, 3, ... with no gap). */
export function receivedBytes(c: Collector, conn: string): Buffer[] {
  const frames = c.frames(conn);
  frames.forEach((f, i) => {
    if (f.connSeq !== i + 1) throw new Error(`${conn}: frame ${i} has connSeq ${f.connSeq}`);
  });
  return frames.map((f) => Buffer.from(f.bytes));
}
