import type { WebSocket } from 'ws';
import { malformedFrame } from './malformed.js';
import type { Prng } from './prng.js';
import type { Recorder } from './recorder.js';
import type { Fault, MalformedVariant, Rate } from './types.js';

/** What a venue plugs into a connection: its subscription state machine and data source. */
export interface VenueSession {
  /** A message from the client. */
  onMessage(data: string, isBinary: boolean): void;
  /** The next paced data frame, or undefined when there is nothing to send now. */
  nextFrame(): string | undefined;
  /**
   * Replay mode: the frame to send for one capture line; `undefined` skips the line, `'wait'` holds it
   * (e.g. nothing is subscribed yet).
   */
  replayFrame(line: string): string | undefined | 'wait';
  /** A venue-level sequence gap (Kalshi skips `seq`); return false to fall back to dropping frames. */
  sequenceGap?(skip: number): boolean;
  dispose?(): void;
}

export interface ConnectionContext {
  recorder: Recorder;
  rate: Rate;
  hugeFrameBytes: number;
  prng: Prng;
  replay?: { lines: readonly string[]; loop: boolean };
}

const MAX_BATCH = 1024;
const HIGH_WATER = 4 * 1024 * 1024;
const IDLE_POLL_MS = 5;

/**
 * One client connection: paces data frames, applies scripted faults and records what is sent.
 * Acks and errors go through `control`, data through `data` (immediate) or the pacer (`nextFrame`).
 */
export class SimConnection {
  session: VenueSession | undefined;
  private seq = 0;
  private staleUntil = 0;
  private deferred: Array<string | Buffer> = [];
  private dropRemaining = 0;
  private malformed: MalformedVariant | undefined;
  private refuseNextSubscribe = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private pumpTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private closed = false;
  private paceBase = 0;
  private paced = 0;
  private replayPos = 0;

  constructor(readonly id: string, private readonly ws: WebSocket, private readonly ctx: ConnectionContext) {
    ws.on('ping', (payload) => {
      if (!this.isStale()) ws.pong(payload);
    });
  }

  /** Start pacing data frames once the session is attached. */
  start(session: VenueSession): void {
    this.session = session;
    this.paceBase = performance.now();
    this.schedule(0);
  }

  /** Replay mode: sessions send the capture's lines only, no synthetic snapshots. */
  get replaying(): boolean {
    return this.ctx.replay !== undefined;
  }

  isStale(): boolean {
    return performance.now() < this.staleUntil;
  }

  /** An ack, error or reply: sent now, or after a `stale` window. */
  control(text: string): void {
    this.send(text);
  }

  /** A heartbeat: skipped (not deferred) while stale. */
  heartbeat(text: string): void {
    if (!this.isStale()) this.send(text);
  }

  /** A data frame: subject to `sequence-gap` drops and preceded by a pending `malformed` frame. */
  data(text: string): void {
    if (this.dropRemaining > 0) {
      this.dropRemaining--;
      return;
    }
    if (this.malformed !== undefined) {
      const bad = malformedFrame(this.malformed, text, this.ctx.hugeFrameBytes, this.ctx.prng);
      this.malformed = undefined;
      this.send(bad);
    }
    this.send(text);
  }

  /** A WebSocket ping control frame (Kalshi's heartbeat): skipped while stale, never recorded. */
  ping(payload: string): void {
    if (!this.isStale() && this.ws.readyState === this.ws.OPEN) this.ws.ping(payload);
  }

  /** Run `fn` every `ms` until the connection closes; skipped while stale. */
  every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(() => {
      if (!this.closed && !this.isStale()) fn();
    }, ms));
  }

  /** Consume a pending `subscription-limit` fault. */
  takeSubscriptionRefusal(): boolean {
    const r = this.refuseNextSubscribe;
    this.refuseNextSubscribe = false;
    return r;
  }

  inject(fault: Fault): void {
    switch (fault.kind) {
      case 'disconnect':
        this.ws.terminate();
        return;
      case 'stale':
        this.staleUntil = Math.max(this.staleUntil, performance.now() + fault.ms);
        return;
      case 'malformed':
        this.malformed = fault.variant;
        return;
      case 'sequence-gap':
        if (this.session?.sequenceGap?.(fault.skip) !== true) this.dropRemaining += fault.skip;
        return;
      case 'subscription-limit':
        this.refuseNextSubscribe = true;
        return;
      case 'rest-429':
        return; // server-wide, handled by the REST layer
    }
  }

  /** Close with a close frame (policy decisions), as opposed to the abrupt `disconnect` fault. */
  closeWith(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  dispose(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    if (this.pumpTimer !== undefined) {
      clearTimeout(this.pumpTimer as NodeJS.Timeout);
      clearImmediate(this.pumpTimer as NodeJS.Immediate);
    }
    this.session?.dispose?.();
  }

  /** Write now, after anything held back by a `stale` window (order is kept); hold it while stale. */
  private send(payload: string | Buffer): void {
    if (this.isStale()) return void this.deferred.push(payload);
    this.flushDeferred();
    this.write(payload);
  }

  private flushDeferred(): void {
    if (this.deferred.length === 0) return;
    const held = this.deferred;
    this.deferred = [];
    for (const f of held) this.write(f);
  }

  private write(payload: string | Buffer): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.seq++;
    this.ctx.recorder.frame(this.id, this.seq, payload);
    this.ws.send(payload, { binary: typeof payload !== 'string' });
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    this.pumpTimer = ms <= 0 ? setImmediate(() => this.pump()) : setTimeout(() => this.pump(), ms);
  }

  private pump(): void {
    if (this.closed) return;
    const now = performance.now();
    if (now < this.staleUntil) {
      this.paceBase = this.staleUntil;
      this.paced = 0;
      this.schedule(this.staleUntil - now);
      return;
    }
    this.flushDeferred();
    const rate = this.ctx.rate;
    if (rate === 'max') this.pumpMax();
    else this.pumpPaced(rate, now);
  }

  private pumpMax(): void {
    let n = 0;
    while (n < MAX_BATCH && this.ws.bufferedAmount < HIGH_WATER) {
      const f = this.produce();
      if (f === undefined) break;
      this.data(f);
      n++;
    }
    if (n === 0) this.schedule(this.ws.bufferedAmount >= HIGH_WATER ? 1 : IDLE_POLL_MS);
    else this.schedule(this.ws.bufferedAmount >= HIGH_WATER ? 1 : 0);
  }

  private pumpPaced(rate: number, now: number): void {
    let due = Math.floor(((now - this.paceBase) * rate) / 1000) - this.paced;
    if (due > rate) {
      // the event loop stalled for over a second: do not burst, restart the schedule
      this.paceBase = now;
      this.paced = 0;
      due = 1;
    }
    for (let i = 0; i < due; i++) {
      const f = this.produce();
      if (f === undefined) {
        this.paceBase = now;
        this.paced = 0;
        break;
      }
      this.data(f);
      this.paced++;
    }
    this.schedule(Math.min(100, Math.max(5, 1000 / rate)));
  }

  private produce(): string | undefined {
    const session = this.session;
    if (session === undefined) return undefined;
    const replay = this.ctx.replay;
    if (replay === undefined) return session.nextFrame();
    for (let skipped = 0; skipped <= replay.lines.length; skipped++) {
      if (this.replayPos >= replay.lines.length) {
        if (!replay.loop || replay.lines.length === 0) return undefined;
        this.replayPos = 0;
      }
      const line = replay.lines[this.replayPos] as string;
      const frame = session.replayFrame(line);
      if (frame === 'wait') return undefined;
      this.replayPos++;
      if (frame !== undefined) return frame;
    }
    return undefined;
  }
}
