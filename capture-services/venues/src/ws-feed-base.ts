import { RealClock } from '../../../core/src/middleware/clock.js';
import type { Clock, TimerHandle } from '../../../core/src/middleware/clock.js';
import { UpgradeRefusedError, wsTransport } from './ws-transport.js';
import type { WsConnectOptions, WsSocket, WsTlsOptions, WsTransport } from './ws-transport.js';

export { UpgradeRefusedError, wsTransport } from './ws-transport.js';
export type { WsConnectOptions, WsSocket, WsTlsOptions, WsTransport } from './ws-transport.js';

/**
 * What a feed yields. `conn` is unique per connection attempt (`<feed>-<shard>-<epochms>-<attempt>`); `connSeq`
 * counts every frame received on that connection from 1 (acks and heartbeats included: they are raw data);
 * `recvNs` is `clock.nowNs()` at receipt; `bytes` are the received bytes, never re-encoded. Every attempt ends with
 * exactly one `disconnected`, also one that never opened; `reconnectInMs` is null when the feed is shutting down.
 * `gap` is an exchange-sequence jump (Kalshi per-`sid` `seq`), emitted right after the frame that revealed it.
 */
export type FeedEvent =
  | { kind: 'frame'; conn: string; connSeq: number; recvNs: bigint; bytes: Uint8Array }
  | { kind: 'connected'; conn: string; at: number }
  | { kind: 'disconnected'; conn: string; at: number; reason: string; reconnectInMs: number | null }
  | { kind: 'error'; conn: string; message: string }
  | { kind: 'gap'; conn: string; sid: number; expected: number; got: number; at: number };

/** Heartbeat sent by the client: a WebSocket ping frame, or the text frame from `heartbeatFrame()` (`PING`, an app ping). */
export interface Heartbeat {
  kind: 'ws-ping' | 'text';
  intervalMs: number;
}

export interface BackoffOptions {
  /** First ceiling of the full-jitter delay (default 500 ms); it doubles per consecutive failure. */
  baseMs: number;
  /** Largest ceiling (default 30 s). */
  capMs: number;
  /** A connection that stayed open this long resets the failure count (default 10 s). */
  stableMs: number;
}

export interface WsFeedOptions {
  /** Feed name (environment `name`): the first part of every conn id. */
  feed: string;
  /** Shard index: the second part of the conn id (default 0). */
  shard?: number;
  url: string;
  /** Every timer, sleep and timestamp (default RealClock). */
  clock?: Clock;
  /** Aborting closes the connection (close frame, then terminate after `closeTimeoutMs`) and ends `events()`. */
  signal?: AbortSignal;
  transport?: WsTransport;
  tls?: WsTlsOptions;
  heartbeat?: Heartbeat;
  /** No frame (nor ping/pong) for this long → terminate and reconnect. 0 disables. */
  staleAfterMs: number;
  backoff?: Partial<BackoffOptions>;
  /** Jitter source in [0, 1) (default Math.random); tests inject a fixed one. */
  random?: () => number;
  /** Upgrade must complete within this (default 10 s). */
  connectTimeoutMs?: number;
  /** After our close frame, wait this long for the server's before terminating (default 2 s). */
  closeTimeoutMs?: number;
  /** Event queue bound in bytes: above it the socket is paused (default 16 MiB). */
  highWaterBytes?: number;
  /** Reading resumes once the queue is drained below this (default highWaterBytes / 2). */
  lowWaterBytes?: number;
  /** Largest frame accepted (default 64 MiB). */
  maxPayloadBytes?: number;
}

/** A venue feed's constructor options: every base option may be overridden, `url` and `feed` included. */
export type VenueFeedOverrides = Partial<Omit<WsFeedOptions, 'feed' | 'url'>> & { feed?: string; url?: string };

const BASE_KEYS = [
  'shard', 'clock', 'signal', 'transport', 'tls', 'heartbeat', 'staleAfterMs', 'backoff', 'random', 'connectTimeoutMs',
  'closeTimeoutMs', 'highWaterBytes', 'lowWaterBytes', 'maxPayloadBytes',
] as const;

/** Base options from a venue's defaults and the caller's overrides (venue-only fields such as keys are not copied). */
export function feedOptions(o: VenueFeedOverrides, d: { feed: string; url: string; staleAfterMs: number; heartbeat?: Heartbeat }): WsFeedOptions {
  const out: Record<string, unknown> = { ...d, feed: o.feed ?? d.feed, url: o.url ?? d.url };
  for (const k of BASE_KEYS) if (o[k] !== undefined) out[k] = o[k];
  return out as unknown as WsFeedOptions;
}

export interface FeedStats {
  attempts: number;
  frames: number;
  queuedEvents: number;
  queuedBytes: number;
  /** Highest `queuedBytes` seen. */
  maxQueuedBytes: number;
  paused: boolean;
  pauses: number;
}

/** Full jitter (AWS "Exponential Backoff And Jitter"): uniform in [0, min(cap, base·2^failures)). */
export function backoffDelay(failures: number, o: Pick<BackoffOptions, 'baseMs' | 'capMs'>, random: () => number): number {
  return Math.floor(random() * Math.min(o.capMs, o.baseMs * 2 ** Math.min(failures, 30)));
}

/** `Retry-After` as delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Fixed cost counted for a non-frame event and per frame, on top of its bytes. */
const EVENT_OVERHEAD = 64;
const sizeOf = (e: FeedEvent): number => (e.kind === 'frame' ? e.bytes.length + EVENT_OVERHEAD : EVENT_OVERHEAD);

/**
 * The one WebSocket base class. It connects (auth headers per attempt), sends the venue's subscribe frames after
 * every open, sends heartbeats, detects stale connections, reconnects with full-jitter exponential backoff (a 429
 * waits for Retry-After) and shuts down on `AbortSignal` or the iterator's `return()`.
 *
 * Backpressure: events wait in a queue bounded by bytes. When the consumer of `events()` is slower than the socket
 * and the queue passes `highWaterBytes`, the socket is paused (`ws` stops reading the TCP socket; the kernel
 * window fills and the server's send buffer grows) until the queue drains to `lowWaterBytes`. Nothing is dropped.
 * The queue can exceed the bound by what the socket had already read (one read chunk, up to the largest frame).
 * While paused the stale timer is suspended (silence is ours, not the server's).
 *
 * A venue subclass provides `subscribeFrames()` and optionally `authHeaders`, `onConnected`, `heartbeatFrame` and
 * `onFrame`; it may `emit` events (`gap`, `error`) and `send` frames on the open connection.
 */
export abstract class WsFeedBase {
  readonly feed: string;
  readonly shard: number;
  protected readonly clock: Clock;
  private readonly o: WsFeedOptions;
  private readonly backoff: BackoffOptions;
  private readonly transport: WsTransport;
  private readonly abort = new AbortController();
  private readonly queue: Array<FeedEvent | undefined> = [];
  private head = 0;
  private queuedBytes = 0;
  private ended = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private socket: WsSocket | undefined;
  private current: string | undefined;
  private lastActivity = 0;
  private readonly s: FeedStats = { attempts: 0, frames: 0, queuedEvents: 0, queuedBytes: 0, maxQueuedBytes: 0, paused: false, pauses: 0 };

  constructor(options: WsFeedOptions) {
    this.o = options;
    this.feed = options.feed;
    this.shard = options.shard ?? 0;
    this.clock = options.clock ?? new RealClock();
    this.transport = options.transport ?? wsTransport;
    this.backoff = { baseMs: 500, capMs: 30_000, stableMs: 10_000, ...options.backoff };
    const outer = options.signal;
    if (outer?.aborted) this.abort.abort(outer.reason);
    else outer?.addEventListener('abort', () => this.abort.abort(outer.reason), { once: true, signal: this.abort.signal });
  }

  /** The events of this feed; the first call starts it. One consumer; `return()` (a `break`) stops the feed. */
  events(): AsyncIterable<FeedEvent> {
    this.start();
    const it: AsyncIterableIterator<FeedEvent> = {
      next: async () => {
        const value = await this.take();
        return value === undefined ? { done: true, value: undefined } : { done: false, value };
      },
      return: async () => {
        await this.stop();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /** Start connecting (idempotent). Events queue until read. */
  start(): void {
    this.running ??= this.run().finally(() => {
      this.ended = true;
      this.wakeUp();
    });
  }

  /** Close the connection and stop reconnecting; resolves once every timer is cleared and the socket closed. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  stats(): FeedStats {
    return { ...this.s, queuedEvents: this.queue.length - this.head, queuedBytes: this.queuedBytes };
  }

  /** Upgrade headers for one attempt (computed per attempt, e.g. a fresh signature). */
  protected authHeaders(_url: URL): Record<string, string> | Promise<Record<string, string>> {
    return {};
  }

  /** A new connection opened (before `subscribeFrames`): reset per-connection state. */
  protected onConnected(_conn: string): void {}

  /** Frames to send after every open (resubscription after a reconnect comes from here too). */
  protected abstract subscribeFrames(): string[];

  /** The text heartbeat (`heartbeat.kind: 'text'`), built per beat (e.g. with a fresh req_id). */
  protected heartbeatFrame(): string {
    return 'PING';
  }

  /** Inspect a received frame, after its `frame` event was queued (acks, sequence gaps). Must not throw. */
  protected onFrame(_bytes: Uint8Array, _isBinary: boolean, _conn: string): void {}

  /** Queue an event (subclasses: `gap`, `error`). */
  protected emit(e: FeedEvent): void {
    this.queue.push(e);
    this.queuedBytes += sizeOf(e);
    if (this.queuedBytes > this.s.maxQueuedBytes) this.s.maxQueuedBytes = this.queuedBytes;
    if (!this.s.paused && this.socket !== undefined && this.queuedBytes >= (this.o.highWaterBytes ?? 16 * 1024 * 1024)) {
      this.socket.pause();
      this.s.paused = true;
      this.s.pauses++;
    }
    this.wakeUp();
  }

  /** Send a text frame on the open connection; false when there is none. */
  protected send(text: string): boolean {
    if (this.socket === undefined) return false;
    try {
      this.socket.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** The conn id of the open connection, if any. */
  protected get conn(): string | undefined {
    return this.current;
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async take(): Promise<FeedEvent | undefined> {
    for (;;) {
      if (this.head < this.queue.length) {
        const e = this.queue[this.head] as FeedEvent;
        this.queue[this.head++] = undefined;
        if (this.head > 4096 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        this.queuedBytes -= sizeOf(e);
        const low = this.o.lowWaterBytes ?? (this.o.highWaterBytes ?? 16 * 1024 * 1024) / 2;
        if (this.s.paused && this.queuedBytes <= low) {
          this.s.paused = false;
          this.lastActivity = this.clock.now();
          this.socket?.resume();
        }
        return e;
      }
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      const conn = `${this.feed}-${this.shard}-${this.clock.now()}-${++this.s.attempts}`;
      let reason: string;
      let retryAfterMs: number | undefined;
      let openedAt: number | undefined;
      try {
        const socket = await this.open(signal);
        openedAt = this.clock.now();
        reason = await this.session(conn, socket, signal);
      } catch (err) {
        reason = signal.aborted ? 'aborted' : err instanceof Error ? err.message : String(err);
        if (err instanceof UpgradeRefusedError && (err.status === 429 || err.status === 503)) retryAfterMs = parseRetryAfter(err.retryAfter, this.clock.now());
        if (!signal.aborted) this.emit({ kind: 'error', conn, message: `${this.feed}: ${reason}` });
      }
      const at = this.clock.now();
      if (signal.aborted) {
        this.emit({ kind: 'disconnected', conn, at, reason: 'aborted', reconnectInMs: null });
        break;
      }
      if (openedAt !== undefined && at - openedAt >= this.backoff.stableMs) failures = 0;
      const delay = retryAfterMs ?? backoffDelay(failures++, this.backoff, this.o.random ?? Math.random);
      this.emit({ kind: 'disconnected', conn, at, reason, reconnectInMs: delay });
      await this.clock.sleep(delay, signal).catch(() => undefined);
    }
  }

  private async open(signal: AbortSignal): Promise<WsSocket> {
    const headers = await this.authHeaders(new URL(this.o.url));
    const attempt = new AbortController();
    const onAbort = (): void => attempt.abort(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    const ms = this.o.connectTimeoutMs ?? 10_000;
    const timer = this.clock.setTimer(() => attempt.abort(new Error(`connect timeout after ${ms} ms`)), ms);
    try {
      const options: WsConnectOptions = { headers, maxPayloadBytes: this.o.maxPayloadBytes ?? 64 * 1024 * 1024, signal: attempt.signal };
      if (this.o.tls !== undefined) options.tls = this.o.tls;
      return await this.transport.connect(this.o.url, options);
    } finally {
      this.clock.clearTimer(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** One open connection; resolves with the reason it ended. */
  private session(conn: string, socket: WsSocket, signal: AbortSignal): Promise<string> {
    return new Promise((resolve) => {
      const clock = this.clock;
      const timers: { hb?: TimerHandle; stale?: TimerHandle; close?: TimerHandle } = {};
      let connSeq = 0;
      let closing: string | undefined;
      let done = false;
      const finish = (reason: string): void => {
        if (done) return;
        done = true;
        for (const t of Object.values(timers)) clock.clearTimer(t);
        signal.removeEventListener('abort', onAbort);
        this.socket = undefined;
        this.current = undefined;
        this.s.paused = false;
        resolve(reason);
      };
      const stop = (why: string, graceful: boolean): void => {
        if (closing !== undefined) return;
        closing = why;
        if (!graceful) {
          socket.terminate();
          return finish(why);
        }
        if (this.s.paused) socket.resume(); // read up to the server's close frame
        try {
          socket.close(1000, 'client shutdown');
        } catch {
          /* already closing */
        }
        timers.close = clock.setTimer(() => {
          socket.terminate();
          finish(why);
        }, this.o.closeTimeoutMs ?? 2000);
      };
      const onAbort = (): void => stop('aborted', true);

      this.socket = socket;
      this.current = conn;
      this.lastActivity = clock.now();
      signal.addEventListener('abort', onAbort, { once: true });
      this.emit({ kind: 'connected', conn, at: clock.now() });
      this.onConnected(conn);
      // after `connected`: a transport may deliver frames that came with the upgrade response as soon as we listen
      socket.on('message', (bytes, isBinary) => {
        if (done) return;
        this.lastActivity = clock.now();
        this.s.frames++;
        this.emit({ kind: 'frame', conn, connSeq: ++connSeq, recvNs: clock.nowNs(), bytes });
        try {
          this.onFrame(bytes, isBinary, conn);
        } catch (err) {
          this.emit({ kind: 'error', conn, message: `${this.feed}: frame inspection failed: ${String(err)}` });
        }
      });
      socket.on('activity', () => (this.lastActivity = clock.now()));
      socket.on('error', (err) => {
        if (!done) this.emit({ kind: 'error', conn, message: `${this.feed}: ${err.message}` });
      });
      socket.on('close', (code, why) => finish(closing ?? `closed by server: code ${code}${why === '' ? '' : ` ${why}`}`));

      for (const frame of this.subscribeFrames()) this.send(frame);

      const hb = this.o.heartbeat;
      const beat = (): void => {
        if (done || closing !== undefined || hb === undefined) return;
        try {
          if (hb.kind === 'ws-ping') socket.ping();
          else socket.send(this.heartbeatFrame());
        } catch {
          /* the close event follows */
        }
        timers.hb = clock.setTimer(beat, hb.intervalMs);
      };
      if (hb !== undefined) timers.hb = clock.setTimer(beat, hb.intervalMs);

      const staleMs = this.o.staleAfterMs;
      const check = (): void => {
        if (done || closing !== undefined) return;
        const now = clock.now();
        if (this.s.paused) this.lastActivity = now;
        const idle = now - this.lastActivity;
        if (idle >= staleMs) return stop(`stale: no frame for ${idle} ms (staleAfterMs ${staleMs})`, false);
        timers.stale = clock.setTimer(check, staleMs - idle);
      };
      if (staleMs > 0) timers.stale = clock.setTimer(check, staleMs);
      if (signal.aborted) onAbort();
    });
  }
}
