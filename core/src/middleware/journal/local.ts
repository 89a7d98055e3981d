/**
 * The embedded journal: a directory per stream of append-only segment files (see codec.ts for
 * the record format). Publishes are group-committed: appended to a write buffer, then written
 * and fsynced together, and only then acknowledged.
 */
import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, SsmdError } from '../../errors.js';
import { RealClock, type Clock } from '../clock.js';
import { JournalCoverageError, MiddlewareUnavailableError } from '../errors.js';
import type { ConsumeOptions, Journal, JournalMessage, JournalRecord, PublishAck, StreamInfo, StreamSpec } from '../journal.js';
import { subjectMatches } from '../subjects.js';
import { layoutRecord, writeRecord } from './codec.js';
import { JournalFullError, JournalLockedError, JournalSpecError } from './errors.js';
import { readStream } from './local-reader.js';
import { loadStream, type DedupeEntry, type LoadedStream, type RecoveryNote, type SegmentMeta } from './local-stream.js';
import { segmentFile } from './segment.js';
import { assertCovered, effectiveDuplicateWindowMs, isValidSubject, validateStreamSpec, validateStreamSpecs } from './streams.js';
import { acquirePidLock, syncDir, writeFileAtomic } from '../../fsutil.js';

/** Options for `openLocalJournal`. */
export interface LocalJournalOptions {
  /** Root directory; one sub-directory per stream. */
  dir: string;
  /** Roll to a new segment file after this many bytes (default 64 MiB). */
  segmentBytes?: number;
  /**
   * Group-commit interval (default 20 ms): a publish is written and fsynced at most this long
   * after the previous write began (at once after a quiet spell; right after the running write
   * under load), or as soon as 1 MiB is buffered. Callers that wait for a whole window of acks
   * before sending more therefore get at most one window per interval.
   */
  fsyncIntervalMs?: number;
  /** Source of record timestamps and of time for retention and de-duplication (default real). */
  clock?: Clock;
  /**
   * Read a directory another process writes: no repair, no publishing; stream state is re-read
   * from disk on `info` and `consume`. Without it the directory is locked to this instance.
   */
  readOnly?: boolean;
}

const FLUSH_BYTES = 1024 * 1024;
const FIRST_BUF_BYTES = 64 * 1024;
const POLL_MS = 100;
const PRUNE_EVERY_MS = 1_000;
const AGE_CHECK_MS = 1_000;
const COMPONENT = 'local-journal';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Records bound for one segment, encoded back to back into a few growing buffers. */
interface Part {
  seg: SegmentMeta;
  bufs: Buffer[];
  /** Bytes used in the last buffer. */
  used: number;
  bytes: number;
}

interface Batch {
  parts: Part[];
  lastSeq: number;
  bytes: number;
  done: Deferred;
}

interface Stream extends LoadedStream {
  spec: StreamSpec;
  dir: string;
  /** Highest sequence written and fsynced. */
  durableSeq: number;
  batch?: Batch | undefined;
  inFlight?: Batch | undefined;
  flushing?: Promise<void> | undefined;
  timer?: NodeJS.Timeout | undefined;
  /** performance.now() when the last write began. */
  lastFlushAt: number;
  nextPrune: number;
  fh?: { first: number; handle: FileHandle } | undefined;
  failed?: Error | undefined;
  waiters: Set<() => void>;
}

/** Journal on local segment files (the embedded default). */
export class LocalJournal implements Journal {
  readonly kind = 'local' as const;
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #intervalMs: number;
  readonly #clock: Clock;
  readonly #readOnly: boolean;
  readonly #streams = new Map<string, Stream>();
  readonly #routes = new Map<string, Stream>();
  #lockFile: string | undefined;
  #ageTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  private constructor(o: LocalJournalOptions) {
    this.#dir = o.dir;
    this.#segmentBytes = o.segmentBytes ?? 64 * 1024 * 1024;
    this.#intervalMs = o.fsyncIntervalMs ?? 20;
    this.#clock = o.clock ?? new RealClock();
    this.#readOnly = o.readOnly === true;
  }

  /** Use `openLocalJournal`. */
  static async open(o: LocalJournalOptions): Promise<LocalJournal> {
    const j = new LocalJournal(o);
    await fsp.mkdir(o.dir, { recursive: true });
    if (!j.#readOnly) j.#lockFile = await acquireLock(o.dir);
    try {
      await j.#loadAll();
    } catch (err) {
      if (j.#lockFile) await fsp.rm(j.#lockFile, { force: true });
      throw err;
    }
    if (!j.#readOnly) {
      j.#ageTimer = setInterval(() => j.#enforceAllAges(), AGE_CHECK_MS);
      j.#ageTimer.unref();
    }
    return j;
  }

  /** Torn tails cut off when this instance opened the directory. */
  get recovered(): RecoveryNote[] {
    return [...this.#streams.values()].flatMap((s) => s.recovered);
  }

  async ensureStreams(specs: readonly StreamSpec[]): Promise<void> {
    this.#assertWritable();
    validateStreamSpecs(specs, [...this.#streams.values()].map((s) => s.spec));
    for (const given of specs) {
      const spec: StreamSpec = { ...given, subjects: [...given.subjects] };
      const dir = path.join(this.#dir, spec.name);
      await writeFileAtomic(path.join(dir, 'stream.json'), Buffer.from(`${JSON.stringify(spec, null, 2)}\n`));
      const st = this.#streams.get(spec.name);
      if (st) {
        st.spec = spec;
        await this.#enforceLimits(st);
      } else {
        await this.#load(spec);
      }
    }
    this.#routes.clear();
  }

  async verifyCoverage(subjects: readonly string[]): Promise<void> {
    assertCovered([...this.#streams.values()].flatMap((s) => s.spec.subjects), subjects);
  }

  async publish(rec: JournalRecord): Promise<PublishAck> {
    this.#assertWritable();
    const st = this.#route(rec.subject);
    if (st.failed) throw st.failed;
    const now = Math.max(Math.floor(this.#clock.now()), st.lastTs);
    if (rec.msgId !== '') {
      const cutoff = now - effectiveDuplicateWindowMs(st.spec);
      if (now >= st.nextPrune) {
        pruneDedupe(st.dedupe, cutoff);
        st.nextPrune = now + PRUNE_EVERY_MS;
      }
      const hit = st.dedupe.get(rec.msgId);
      if (hit && hit.at >= cutoff) {
        await this.#durable(st, hit.seq);
        return { stream: st.spec.name, seq: hit.seq, duplicate: true };
      }
      if (hit) st.dedupe.delete(rec.msgId); // re-inserted below, at the young end
    }
    const seq = st.lastSeq + 1;
    const stored = { seq, timestamp: now, subject: rec.subject, msgId: rec.msgId, headers: rec.headers ?? {}, data: rec.data };
    const layout = layoutRecord(stored);
    const size = layout.size;
    const { maxBytes, discard } = st.spec;
    if (maxBytes > 0 && discard === 'new' && st.bytes + size > maxBytes) {
      throw new JournalFullError(st.spec.name, `${st.bytes} of ${maxBytes} bytes used; the ${size} byte record does not fit`);
    }
    st.lastSeq = seq;
    st.lastTs = now;
    st.bytes += size;
    if (rec.msgId !== '') st.dedupe.set(rec.msgId, { seq, at: now });
    let seg = st.segments.at(-1);
    if (!seg || (seg.bytes > 0 && seg.bytes + size > this.#segmentBytes) || (seg.bytes === 0 && seg.first !== seq)) {
      seg = { first: seq, firstTs: now, bytes: 0, onDisk: false };
      st.segments.push(seg);
    }
    seg.firstTs ??= now;
    seg.bytes += size;
    const batch = (st.batch ??= { parts: [], lastSeq: 0, bytes: 0, done: deferred() });
    let part = batch.parts.at(-1);
    if (part?.seg !== seg) batch.parts.push((part = { seg, bufs: [], used: 0, bytes: 0 }));
    let buf = part.bufs.at(-1);
    if (!buf || part.used + size > buf.length) {
      // Encode straight into a growing buffer: no per-record allocation, no copy at write time.
      if (buf) part.bufs[part.bufs.length - 1] = buf.subarray(0, part.used);
      part.bufs.push((buf = Buffer.allocUnsafeSlow(Math.max(size, Math.min(FLUSH_BYTES, (buf?.length ?? FIRST_BUF_BYTES / 2) * 2)))));
      part.used = 0;
    }
    part.used = writeRecord(buf, part.used, stored, layout);
    part.bytes += size;
    batch.bytes += size;
    batch.lastSeq = seq;
    this.#schedule(st, batch.bytes >= FLUSH_BYTES);
    await batch.done.promise;
    return { stream: st.spec.name, seq, duplicate: false };
  }

  consume(opts: ConsumeOptions): AsyncIterable<JournalMessage> {
    return this.#consume(opts);
  }

  async *#consume(opts: ConsumeOptions): AsyncGenerator<JournalMessage> {
    const st = await this.#stream(opts.stream);
    if (this.#readOnly) await this.#refresh(st);
    const from = opts.from;
    const oldest = st.segments[0]?.first ?? 1;
    const startSeq = Math.max(oldest, from === 'first' ? 1 : from === 'new' ? st.lastSeq + 1 : 'seq' in from ? from.seq : 1);
    const stopAfter = opts.untilCaughtUp ? st.durableSeq : Number.POSITIVE_INFINITY;
    if (startSeq > stopAfter || opts.signal?.aborted) return;
    // 'new' starts at the end of what is on disk instead of scanning the active segment.
    const last = st.segments.at(-1);
    const pendingInLast = [st.inFlight, st.batch].flatMap((b) => b?.parts ?? []).filter((p) => p.seg === last).reduce((n, p) => n + p.bytes, 0);
    const hint = from === 'new' && last ? { first: last.first, offset: last.bytes - pendingInLast } : undefined;
    yield* readStream({
      hint,
      stream: st.spec.name,
      dir: st.dir,
      startSeq,
      startTime: typeof from === 'object' && 'time' in from ? from.time.getTime() : undefined,
      stopAfter,
      filter: opts.filter,
      signal: opts.signal,
      wait: (signal) => this.#waitForAppend(st, signal),
      closed: () => this.#closing !== undefined,
    });
  }

  async info(name: string): Promise<StreamInfo> {
    const st = await this.#stream(name);
    if (this.#readOnly) await this.#refresh(st);
    const pending = (st.batch?.bytes ?? 0) + (st.inFlight?.bytes ?? 0);
    const first = st.segments[0]?.first ?? 0;
    const messages = first === 0 ? 0 : Math.max(0, st.durableSeq - first + 1);
    return {
      name,
      subjects: [...st.spec.subjects],
      messages,
      bytes: st.bytes - pending,
      firstSeq: messages > 0 ? first : st.durableSeq === 0 ? 0 : st.durableSeq + 1,
      lastSeq: st.durableSeq,
    };
  }

  /** Flush and fsync what is buffered, stop tailing consumers, release the directory. */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  async #doClose(): Promise<void> {
    clearInterval(this.#ageTimer);
    for (const st of this.#streams.values()) {
      clearTimeout(st.timer);
      while (st.flushing || (st.batch && !st.failed)) await (st.flushing ?? this.#flush(st));
      await st.fh?.handle.close().catch(() => {});
      st.fh = undefined;
      for (const wake of st.waiters) wake();
    }
    if (this.#lockFile) await fsp.rm(this.#lockFile, { force: true });
  }

  // ------------------------------------------------------------------ group commit

  #schedule(st: Stream, urgent: boolean): void {
    if (st.flushing) return; // the running flush takes the next batch as soon as its write ends
    if (urgent) {
      clearTimeout(st.timer);
      st.timer = undefined;
      void this.#flush(st);
      return;
    }
    // At most one write per interval: a publish after a quiet spell is written at once (next
    // tick, to gather its siblings), later ones wait for the interval. Real time on purpose: a
    // simulated clock must not stall durability.
    st.timer ??= setTimeout(() => {
      st.timer = undefined;
      void this.#flush(st);
    }, Math.max(0, st.lastFlushAt + this.#intervalMs - performance.now()));
  }

  #flush(st: Stream): Promise<void> {
    st.flushing ??= (async () => {
      try {
        while (st.batch && !st.failed) {
          const b = st.batch;
          st.batch = undefined;
          st.inFlight = b;
          st.lastFlushAt = performance.now();
          try {
            await this.#write(st, b);
          } catch (err) {
            st.failed = new MiddlewareUnavailableError(COMPONENT, `writing stream ${st.spec.name} failed; reopen the journal: ${String(err)}`, { cause: err });
            b.done.reject(st.failed);
            // Publishes that arrived during the write are behind the failed batch: fail them too.
            (st.batch as Batch | undefined)?.done.reject(st.failed);
            st.batch = undefined;
            return;
          }
          st.durableSeq = b.lastSeq;
          st.inFlight = undefined;
          await this.#enforceLimits(st).catch(() => {}); // before the acks, so info and files agree with them
          b.done.resolve();
          for (const wake of st.waiters) wake();
        }
      } finally {
        st.flushing = undefined;
      }
    })();
    return st.flushing;
  }

  async #write(st: Stream, b: Batch): Promise<void> {
    for (const { seg, bufs, used, bytes } of b.parts) {
      if (st.fh?.first !== seg.first) {
        await st.fh?.handle.close();
        st.fh = { first: seg.first, handle: await fsp.open(segmentFile(st.dir, seg.first), 'a') };
        if (!seg.onDisk) {
          await syncDir(st.dir); // make the new file's directory entry durable too
          seg.onDisk = true;
        }
      }
      const data = bufs.map((b, i) => (i === bufs.length - 1 ? b.subarray(0, used) : b));
      const { bytesWritten } = await st.fh.handle.writev(data);
      if (bytesWritten !== bytes) throw new Error(`short write to ${segmentFile(st.dir, seg.first)} (${bytesWritten} of ${bytes} bytes)`);
      await st.fh.handle.datasync();
    }
  }

  /** Resolves once `seq` is fsynced (for a duplicate of a publish still in the write buffer). */
  #durable(st: Stream, seq: number): Promise<void> {
    if (seq <= st.durableSeq) return Promise.resolve();
    if (st.failed) return Promise.reject(st.failed);
    if (st.inFlight && seq <= st.inFlight.lastSeq) return st.inFlight.done.promise;
    return st.batch?.done.promise ?? Promise.resolve();
  }

  // ------------------------------------------------------------------ limits

  /** Delete whole old segments beyond maxAge, or beyond maxBytes with discard 'old'. The last segment always stays. */
  async #enforceLimits(st: Stream): Promise<void> {
    const { maxAgeMs, maxBytes, discard } = st.spec;
    const cutoff = this.#clock.now() - maxAgeMs;
    const doomed: SegmentMeta[] = [];
    while (st.segments.length > 1) {
      const [a, b] = st.segments as [SegmentMeta, SegmentMeta];
      if (b.first - 1 > st.durableSeq) break; // `a` still has bytes in the write buffer
      // b's first record is newer than everything in a, so b.firstTs < cutoff means all of a is too old.
      const tooOld = maxAgeMs > 0 && b.firstTs !== undefined && b.firstTs < cutoff;
      const tooBig = maxBytes > 0 && discard === 'old' && st.bytes > maxBytes;
      if (!tooOld && !tooBig) break;
      st.segments.shift();
      st.bytes -= a.bytes;
      doomed.push(a);
    }
    for (const seg of doomed) await fsp.rm(segmentFile(st.dir, seg.first), { force: true });
  }

  #enforceAllAges(): void {
    for (const st of this.#streams.values()) if (st.spec.maxAgeMs > 0 && !st.flushing) void this.#enforceLimits(st).catch(() => {});
  }

  // ------------------------------------------------------------------ streams

  async #loadAll(): Promise<void> {
    const entries = await fsp.readdir(this.#dir, { withFileTypes: true });
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      let spec: StreamSpec;
      try {
        spec = JSON.parse(await fsp.readFile(path.join(this.#dir, e.name, 'stream.json'), 'utf8')) as StreamSpec;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      validateStreamSpec(spec);
      await this.#load(spec);
    }
  }

  async #load(spec: StreamSpec): Promise<Stream> {
    const dir = path.join(this.#dir, spec.name);
    const loaded = await loadStream(dir, spec, { now: this.#clock.now(), repair: !this.#readOnly, dedupe: !this.#readOnly });
    const st: Stream = { ...loaded, spec, dir, durableSeq: loaded.lastSeq, waiters: new Set(), lastFlushAt: 0, nextPrune: 0 };
    this.#streams.set(spec.name, st);
    if (!this.#readOnly) await this.#enforceLimits(st);
    return st;
  }

  /** Read-only instances: pick up what the writing process appended. */
  async #refresh(st: Stream): Promise<void> {
    const loaded = await loadStream(st.dir, st.spec, { now: this.#clock.now(), repair: false, dedupe: false });
    Object.assign(st, { segments: loaded.segments, lastSeq: loaded.lastSeq, lastTs: loaded.lastTs, bytes: loaded.bytes, durableSeq: loaded.lastSeq });
  }

  async #stream(name: string): Promise<Stream> {
    let st = this.#streams.get(name);
    if (!st && this.#readOnly) {
      await this.#loadAll(); // another process may have declared it since
      st = this.#streams.get(name);
    }
    if (!st) throw new NotFoundError(`stream ${name} does not exist in ${this.#dir}; declare it with ensureStreams`);
    return st;
  }

  #route(subject: string): Stream {
    const cached = this.#routes.get(subject);
    if (cached) return cached;
    if (!isValidSubject(subject)) throw new JournalSpecError(`"${subject}" is not a publishable subject (empty token, wildcard or whitespace)`);
    for (const st of this.#streams.values()) {
      if (st.spec.subjects.some((p) => subjectMatches(p, subject))) {
        if (this.#routes.size > 100_000) this.#routes.clear();
        this.#routes.set(subject, st);
        return st;
      }
    }
    throw new JournalCoverageError([subject]);
  }

  #assertWritable(): void {
    if (this.#closing) throw new MiddlewareUnavailableError(COMPONENT, `journal ${this.#dir} is closed`);
    if (this.#readOnly) throw new SsmdError(`journal ${this.#dir} was opened readOnly`, { code: 'JOURNAL_READ_ONLY' });
  }

  #waitForAppend(st: Stream, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        st.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, POLL_MS); // also sees appends by another process
      st.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** Open (creating if needed) a local journal in `opts.dir`; repairs torn tails and rebuilds the duplicate window. */
export function openLocalJournal(opts: LocalJournalOptions): Promise<LocalJournal> {
  return LocalJournal.open(opts);
}

function pruneDedupe(map: Map<string, DedupeEntry>, cutoff: number): void {
  for (const [id, e] of map) {
    if (e.at >= cutoff) return;
    map.delete(id);
  }
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // publishers observe the rejection; never report it as unhandled
  return { promise, resolve, reject };
}

/** Take `<dir>/LOCK` (our pid), replacing a lock whose process is gone. */
function acquireLock(dir: string): Promise<string> {
  return acquirePidLock(path.join(dir, 'LOCK'), (pid) => new JournalLockedError(dir, pid));
}
