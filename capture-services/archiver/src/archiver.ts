/**
 * The archiver (M4, M15): one per (environment, feed). It consumes the feed's raw stream from the
 * journal in order and writes every frame, byte-exact, as one archive line into gzip day files on
 * block storage (see layout.ts), closes files at size and hour boundaries, lists closed files in
 * the day's manifest (manifest.ts) and uploads them with verification (uploads.ts).
 *
 * Exactly once across crashes. Lines go through a gzip stream; a commit (every `commitEvery`
 * frames or `commitIntervalMs`, and whenever a file is opened or closed) ends the gzip member,
 * fsyncs every open file, then saves the checkpoint (checkpoint.ts) naming each open file with its
 * committed length and the last journal sequence covered. Changes to manifests are written into
 * the checkpoint first and applied after it, so they are re-applied (idempotently) after a crash.
 * On open, each open file is cut back to its committed length and consumption resumes at the
 * checkpoint's sequence + 1, so a `kill -9` at any instant loses and duplicates nothing. A new file
 * is recorded in the checkpoint before it is created, so no file exists that neither the checkpoint
 * nor a manifest accounts for.
 */
import fsp from 'node:fs/promises';
import type { Kysely } from 'kysely';
import type { Database } from '../../../catalog/src/database.js';
import { finishRun, loadCheckpoint, saveCheckpoint, startRun } from '../../../catalog/src/runs/run.repository.js';
import { RealClock, type Clock, type TimerHandle } from '../../../core/src/middleware/clock.js';
import type { Journal, JournalMessage } from '../../../core/src/middleware/journal.js';
import type { ObjectStore } from '../../../core/src/middleware/storage.js';
import { sha256File } from '../../../core/src/middleware/storage/index.js';
import { UploadQueue } from '../../../core/src/middleware/storage/upload-queue.js';
import { rawStreamName } from '../../../core/src/middleware/subjects.js';
import { encodeArchiveLine, fromJournalMessage, type RawFrame } from '../../raw/src/frame.js';
import { CHECKPOINT_JOB, checkpointScope, parseCheckpoint, type ArchiveCheckpoint, type OpenFileCheckpoint } from './checkpoint.js';
import { parseArchiverTunables, type ArchiverTunables, type ArchiverTunablesInput } from './config.js';
import { ArchiverBusyError, ArchiverConfigError, ArchiverStateError } from './errors.js';
import type { ArchiverFinding, ArchiverFindingSink } from './findings.js';
import { Continuity } from './continuity.js';
import { assertSegment, blockPath, dayKey, hourBucket, hourEndNs, isDayLabel, rawFileName, type HourBucket } from './layout.js';
import { applyOp, ManifestStore, type ConnectionRange, type Manifest, type ManifestFile, type ManifestOp } from './manifest.js';
import { Mutex } from './mutex.js';
import { RawFile } from './raw-file.js';
import { ArchiveUploads, type UploadReport } from './uploads.js';

/** Options of {@link openArchiver}. */
export interface ArchiverOptions extends ArchiverTunablesInput {
  /** Environment name (a path segment). */
  env: string;
  /** Feed name within the environment (a path segment). */
  feed: string;
  journal: Journal;
  /** The feed's raw stream (default `rawStreamName(env, feed)`). */
  stream?: string;
  /** Block storage root (the environment's `storage.block`). */
  blockDir: string;
  /** Object storage; keys are `raw/<env>/<feed>/<day>/<file>` below the store's own prefix. */
  store: ObjectStore;
  /** Directory of this archiver's upload outbox (one archiver per directory). */
  uploadStateDir: string;
  /** The catalog: checkpoints and runs. */
  db: Kysely<Database>;
  clock?: Clock;
  findings: ArchiverFindingSink;
  /** Recorded on the archive run (default `unknown`). */
  codeVersion?: string;
}

/** Progress counters; frames/bytes/files count what this instance did. */
export interface ArchiverStats {
  frames: number;
  /** Compressed bytes committed to raw files. */
  bytes: number;
  uncompressedBytes: number;
  files: { open: number; closed: number };
  /** Last journal sequence archived (or accounted for by a gap). */
  lastJournalSeq: number;
  /** Last journal sequence covered by a saved checkpoint. */
  committedJournalSeq: number;
  /** Messages in the stream after `lastJournalSeq`, as of the last look at the stream (null before one). */
  lag: number | null;
  gaps: { journal: number; missingMessages: number; connection: number };
  commits: number;
  /** Times `run` restarted a journal consumer that had stopped delivering. */
  consumerRestarts: number;
  uploads: { pending: number; uploaded: number; lastError: string | null };
  /** Open files cut back to their committed length when this instance started (bytes written after the last commit before a crash). */
  recovered: { file: string; committedBytes: number; droppedBytes: number }[];
  runId: string;
}

export interface Archiver {
  /** Tail the stream until `signal` aborts (then commit and return). Journal outages are retried with backoff. */
  run(signal: AbortSignal): Promise<void>;
  /** Consume until caught up, commit, close files whose hour ended, try the uploads once, return. */
  catchUp(): Promise<void>;
  /** Close every open file of `day`, mark its manifest complete, try the uploads once; the manifest as it then stands. */
  closeDay(day: string): Promise<Manifest>;
  /** Try every pending upload now; manifests record what was uploaded. */
  flushUploads(): Promise<UploadReport>;
  stats(): ArchiverStats;
  /** Commit, stop background uploads, finish the run. The journal, store and db stay open (they are the caller's). */
  close(): Promise<void>;
}

interface OpenFile {
  key: string;
  path: string;
  day: string;
  hour: number;
  name: string;
  endNs: bigint;
  raw: RawFile | undefined;
  /** Committed bytes. */
  bytes: number;
  dirty: boolean;
  lines: number;
  uncompressedBytes: number;
  firstJournalSeq: number;
  lastJournalSeq: number;
  firstRecvNs: bigint | undefined;
  lastRecvNs: bigint | undefined;
  connections: Map<string, ConnectionRange>;
}

/** The journal failed (not us): retried by `run`. */
class JournalReadError extends Error {
  override name = 'JournalReadError';
  constructor(readonly original: unknown) {
    super(String(original), { cause: original });
  }
}

const NS_PER_MS = 1_000_000n;
const LAG_REFRESH_MS = 5_000;
const CHECKPOINT_ATTEMPTS = 8;
const NO_CLOSE = BigInt(Number.MAX_SAFE_INTEGER) * NS_PER_MS;

/** Open the archiver of one (environment, feed): restores its checkpoint (cutting open files back to their committed length). */
export async function openArchiver(opts: ArchiverOptions): Promise<Archiver> {
  return ArchiverImpl.open(opts);
}

class ArchiverImpl implements Archiver {
  readonly #o: ArchiverOptions;
  readonly #t: Readonly<ArchiverTunables>;
  readonly #stream: string;
  readonly #scope: string;
  readonly #clock: Clock;
  readonly #graceNs: bigint;
  readonly #manifests: ManifestStore;
  readonly #queue: UploadQueue;
  readonly #uploads: ArchiveUploads;
  readonly #mutex = new Mutex();
  readonly #runId: string;

  /** Open files by `<day>/<hour>`. */
  readonly #open = new Map<string, OpenFile>();
  readonly #continuity: Continuity;
  #pending: ManifestOp[];
  #seq: number;
  #committedSeq: number;
  #maxRecvNs: bigint | undefined;
  /** Receive time of the last frame archived (after a restart: the latest one, as the checkpoint has no other). */
  #lastRecvNs: bigint | undefined;
  #nextCloseNs = NO_CLOSE;
  #bucket: HourBucket | undefined;
  #uncommitted = 0;
  #lastCommitAt: number;
  #handledSinceTick = 0;
  #streamLastSeq: number | undefined;
  #lastLagAt = 0;
  /** Since when (clock ms) the stream is known to hold messages past ours, with none delivered since. */
  #behindSince: number | undefined;
  #lastProgressAt = 0;
  #restartConsumer: (() => void) | undefined;
  #mode: 'idle' | 'run' | 'catchUp' | 'closed' = 'idle';
  #fatal: unknown;
  readonly #recovered: ArchiverStats['recovered'] = [];
  readonly #n = { frames: 0, bytes: 0, uncompressedBytes: 0, closed: 0, commits: 0, consumerRestarts: 0 };

  private constructor(o: ArchiverOptions, t: Readonly<ArchiverTunables>, stream: string, cp: ArchiveCheckpoint | undefined, queue: UploadQueue, runId: string) {
    this.#o = o;
    this.#t = t;
    this.#stream = stream;
    this.#scope = checkpointScope(o.env, o.feed);
    this.#clock = o.clock ?? new RealClock();
    this.#graceNs = BigInt(t.hourGraceMs) * NS_PER_MS;
    this.#manifests = new ManifestStore({ env: o.env, feed: o.feed, dayDir: (day) => blockPath(o.blockDir, dayKey(o.env, o.feed, day, '')) });
    this.#queue = queue;
    this.#uploads = new ArchiveUploads({ env: o.env, feed: o.feed, blockDir: o.blockDir, store: o.store, queue, clock: this.#clock, manifests: this.#manifests, unsettled: cp?.unsettled ?? [] });
    this.#runId = runId;
    this.#seq = cp?.journalSeq ?? 0;
    this.#committedSeq = this.#seq;
    this.#maxRecvNs = cp?.maxRecvNs == null ? undefined : BigInt(cp.maxRecvNs);
    this.#lastRecvNs = this.#maxRecvNs;
    this.#pending = cp?.pending ?? [];
    this.#continuity = new Continuity({ env: o.env, feed: o.feed, stream, record: (f) => this.#finding(f), ...(cp ? { conns: cp.conns } : {}) });
    this.#lastCommitAt = this.#clock.now();
  }

  static async open(o: ArchiverOptions): Promise<ArchiverImpl> {
    assertSegment('env', o.env);
    assertSegment('feed', o.feed);
    const { env: _e, feed: _f, journal: _j, stream: _s, blockDir: _b, store: _st, uploadStateDir: _u, db: _d, clock: _c, findings: _fi, codeVersion: _v, ...tunables } = o;
    const t = parseArchiverTunables(tunables);
    const stream = o.stream ?? rawStreamName(o.env, o.feed);
    const scope = checkpointScope(o.env, o.feed);
    const row = await loadCheckpoint(o.db, CHECKPOINT_JOB, scope);
    const cp = row === undefined ? undefined : parseCheckpoint(scope, row.position);
    if (cp !== undefined && cp.stream !== stream) {
      throw new ArchiverStateError(`checkpoint archive/${scope} is for stream ${cp.stream}, not ${stream}: journal sequences of different streams cannot be mixed`);
    }
    await fsp.mkdir(o.uploadStateDir, { recursive: true });
    const queue = await UploadQueue.open({ stateDir: o.uploadStateDir, store: o.store, clock: o.clock ?? new RealClock() });
    const run = await startRun(o.db, { kind: 'archive', codeVersion: o.codeVersion ?? 'unknown', environment: o.env, feed: o.feed, params: { stream, ...t } });
    const a = new ArchiverImpl(o, t, stream, cp, queue, run.id);
    try {
      await a.#restore(cp);
    } catch (err) {
      await a.#closeFiles();
      await queue.close();
      await finishRun(o.db, run.id, 'failed', String(err)).catch(() => undefined);
      throw err;
    }
    return a;
  }

  // ------------------------------------------------------------------ public API

  async run(signal: AbortSignal): Promise<void> {
    this.#enter('run');
    const inner = new AbortController();
    const onAbort = (): void => inner.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) inner.abort();
    let timer: TimerHandle | undefined;
    const schedule = (): void => {
      timer = this.#clock.setTimer(() => {
        timer = undefined;
        this.#mutex.run(() => this.#tick()).then(
          () => !inner.signal.aborted && schedule(),
          (err: unknown) => {
            this.#fatal ??= err;
            inner.abort();
          },
        );
      }, this.#t.commitIntervalMs);
    };
    this.#uploads.startBackground();
    schedule();
    let backoffMs = 0;
    try {
      while (!inner.signal.aborted) {
        const consumer = new AbortController();
        const stop = (): void => consumer.abort();
        inner.signal.addEventListener('abort', stop, { once: true });
        this.#restartConsumer = stop;
        try {
          await this.#consume(consumer.signal, false);
          backoffMs = 0;
          if (!inner.signal.aborted) await this.#clock.sleep(250, inner.signal).catch(() => undefined); // the journal closed the stream: reopen
        } catch (err) {
          if (!(err instanceof JournalReadError)) throw err;
          if (inner.signal.aborted) continue; // stopping anyway; the final commit below still runs
          backoffMs = Math.min(5_000, Math.max(250, backoffMs * 2));
          await this.#clock.sleep(backoffMs, inner.signal).catch(() => undefined);
        } finally {
          inner.signal.removeEventListener('abort', stop);
          this.#restartConsumer = undefined;
        }
      }
      if (this.#fatal !== undefined) throw this.#fatal;
      await this.#mutex.run(() => this.#commit());
    } catch (err) {
      this.#fatal ??= err;
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (timer !== undefined) this.#clock.clearTimer(timer);
      await this.#uploads.stopBackground();
      if (this.#mode === 'run') this.#mode = 'idle';
    }
  }

  async catchUp(): Promise<void> {
    this.#enter('catchUp');
    try {
      await this.#consume(undefined, true);
      await this.#mutex.run(() => this.#commit({ close: this.#endedBy(this.#clockNs() - this.#graceNs) }));
      await this.#refreshLag().catch(() => undefined);
    } catch (err) {
      // The journal failing leaves the archive consistent (call again); anything else poisons this instance.
      if (err instanceof JournalReadError) throw err.original;
      this.#fatal ??= err;
      throw err;
    } finally {
      if (this.#mode === 'catchUp') this.#mode = 'idle';
    }
    await this.#uploads.flush();
  }

  async closeDay(day: string): Promise<Manifest> {
    if (!isDayLabel(day)) throw new ArchiverConfigError(`closeDay needs a UTC day as yyyy-mm-dd, got ${JSON.stringify(day)}`);
    this.#assertUsable();
    await this.#mutex.run(() => this.#commit({ close: [...this.#open.values()].filter((f) => f.day === day), ops: [{ op: 'complete', day }] })).catch((err: unknown) => {
      this.#fatal ??= err;
      throw err;
    });
    await this.#uploads.flush();
    return this.#manifests.read(day);
  }

  flushUploads(): Promise<UploadReport> {
    return this.#uploads.flush();
  }

  stats(): ArchiverStats {
    return {
      frames: this.#n.frames,
      bytes: this.#n.bytes,
      uncompressedBytes: this.#n.uncompressedBytes,
      files: { open: this.#open.size, closed: this.#n.closed },
      lastJournalSeq: this.#seq,
      committedJournalSeq: this.#committedSeq,
      lag: this.#streamLastSeq === undefined ? null : Math.max(0, this.#streamLastSeq - this.#seq),
      gaps: { journal: this.#continuity.counts.journalGaps, missingMessages: this.#continuity.counts.missingMessages, connection: this.#continuity.counts.connectionGaps },
      commits: this.#n.commits,
      consumerRestarts: this.#n.consumerRestarts,
      uploads: { pending: this.#uploads.pending(), uploaded: this.#uploads.uploadedTotal, lastError: this.#uploads.lastError ?? null },
      recovered: this.#recovered.map((r) => ({ ...r })),
      runId: this.#runId,
    };
  }

  async close(): Promise<void> {
    if (this.#mode === 'closed') return;
    if (this.#mode !== 'idle') throw new ArchiverBusyError(`cannot close while ${this.#mode} is active; abort it first`);
    this.#mode = 'closed';
    let error: unknown = this.#fatal;
    if (error === undefined) await this.#mutex.run(() => this.#commit()).catch((err: unknown) => (error = err));
    await this.#uploads.stopBackground();
    await this.#closeFiles();
    await this.#queue.close();
    await finishRun(this.#o.db, this.#runId, error === undefined ? 'succeeded' : 'failed', error === undefined ? undefined : String(error));
    if (error !== undefined && this.#fatal === undefined) throw error;
  }

  // ------------------------------------------------------------------ consuming

  async #consume(signal: AbortSignal | undefined, untilCaughtUp: boolean): Promise<void> {
    try {
      await this.#refreshLag();
    } catch (err) {
      if (err instanceof ArchiverStateError) throw err;
      throw new JournalReadError(err);
    }
    this.#lastProgressAt = this.#clock.now();
    const it = this.#o.journal.consume({ stream: this.#stream, from: { seq: this.#seq + 1 }, untilCaughtUp, ...(signal ? { signal } : {}) })[Symbol.asyncIterator]();
    try {
      for (;;) {
        let r: IteratorResult<JournalMessage>;
        try {
          r = await it.next();
        } catch (err) {
          throw new JournalReadError(err);
        }
        if (r.done) return;
        const m = r.value;
        this.#lastProgressAt = this.#clock.now();
        await this.#mutex.run(() => this.#handle(m));
        if (this.#fatal !== undefined) throw this.#fatal;
      }
    } finally {
      await it.return?.().catch(() => undefined);
    }
  }

  /** Archive one journal message. Runs under the mutex. */
  async #handle(m: JournalMessage): Promise<void> {
    if (m.seq <= this.#seq) return; // redelivered after a consumer reset
    this.#handledSinceTick++;
    const frame = this.#toFrame(m);
    const recvNs = frame.recvNs;
    const bucket = this.#bucketOf(recvNs);
    const maxNs = this.#maxRecvNs === undefined || recvNs > this.#maxRecvNs ? recvNs : this.#maxRecvNs;
    const line = `${encodeArchiveLine(frame)}\n`;
    const lineBytes = Buffer.byteLength(line);

    const close = maxNs >= this.#nextCloseNs ? this.#endedBy(maxNs - this.#graceNs) : [];
    const slot = `${bucket.day}/${bucket.hour}`;
    let f = this.#open.get(slot);
    if (f !== undefined && (close.includes(f) || (f.lines > 0 && f.uncompressedBytes + lineBytes > this.#t.maxFileBytes))) {
      if (!close.includes(f)) close.push(f);
      f = undefined;
    }
    let created: OpenFile | undefined;
    const ops: ManifestOp[] = [];
    if (f === undefined) {
      f = created = this.#newFile(bucket, m.seq);
      // A frame for a day already closed: the day is incomplete again (recorded with the new file).
      if ((await this.#manifests.read(bucket.day)).complete) {
        ops.push({ op: 'reopen', day: bucket.day });
        this.#finding({ kind: 'late_frame', severity: 'warning', summary: `${this.#what()}: frame for ${bucket.day} (journal seq ${m.seq}) arrived after the day was closed; archived in ${created.name}`, windowStart: nsToMs(recvNs), detail: { day: bucket.day, journalSeq: m.seq, file: created.key } });
      }
    }
    if (close.length > 0 || created !== undefined) await this.#commit({ close, register: created, ops });
    if (created !== undefined) created.raw = await RawFile.open(created.path, 0);

    if (m.seq !== this.#seq + 1) this.#pending.push(...this.#continuity.journalGap(this.#seq + 1, m.seq - 1, this.#lastRecvNs, recvNs));
    if (frame.conn !== '') this.#pending.push(...this.#continuity.frame(frame, m.seq));

    await f.raw!.append(line, lineBytes);
    f.dirty = true;
    f.lines++;
    f.uncompressedBytes += lineBytes;
    if (f.lines === 1) {
      f.firstJournalSeq = m.seq;
      f.firstRecvNs = recvNs;
    }
    f.lastJournalSeq = m.seq;
    f.lastRecvNs = recvNs;
    if (frame.conn !== '') {
      const c = f.connections.get(frame.conn);
      if (c === undefined) f.connections.set(frame.conn, { firstSeq: frame.connSeq, lastSeq: frame.connSeq, frames: 1 });
      else {
        c.lastSeq = frame.connSeq;
        c.frames++;
      }
    }
    this.#seq = m.seq;
    this.#maxRecvNs = maxNs;
    this.#lastRecvNs = recvNs;
    this.#n.frames++;
    this.#n.uncompressedBytes += lineBytes;
    if (++this.#uncommitted >= this.#t.commitEvery || this.#clock.now() - this.#lastCommitAt >= this.#t.commitIntervalMs) await this.#commit();
  }

  #toFrame(m: JournalMessage): RawFrame {
    try {
      return fromJournalMessage(this.#o.env, this.#o.feed, m);
    } catch (err) {
      // Raw is sacred: keep the bytes even without the capture metadata, and say so.
      const recvNs = BigInt(m.timestamp) * NS_PER_MS;
      this.#finding({ kind: 'not_a_raw_frame', severity: 'error', summary: `${this.#what()}: journal message ${m.seq} (${m.subject}) has no raw-frame headers; archived with the journal's timestamp`, windowStart: m.timestamp, detail: { journalSeq: m.seq, subject: m.subject, error: String(err) } });
      return { env: this.#o.env, feed: this.#o.feed, shard: -1, conn: '', connSeq: 0, recvNs, type: 'unknown', symbol: '_', bytes: m.data, journalSeq: m.seq };
    }
  }

  #bucketOf(recvNs: bigint): HourBucket {
    const b = this.#bucket;
    if (b !== undefined && recvNs >= b.startNs && recvNs < b.endNs) return b;
    return (this.#bucket = hourBucket(recvNs));
  }

  #newFile(b: HourBucket, firstJournalSeq: number): OpenFile {
    const name = rawFileName(b.hour, firstJournalSeq);
    const key = dayKey(this.#o.env, this.#o.feed, b.day, name);
    return {
      key, path: blockPath(this.#o.blockDir, key), day: b.day, hour: b.hour, name, endNs: b.endNs, raw: undefined, bytes: 0, dirty: false,
      lines: 0, uncompressedBytes: 0, firstJournalSeq, lastJournalSeq: firstJournalSeq, firstRecvNs: undefined, lastRecvNs: undefined, connections: new Map(),
    };
  }

  /** Open files whose hour ended at or before `limitNs`. */
  #endedBy(limitNs: bigint): OpenFile[] {
    return [...this.#open.values()].filter((f) => f.endNs <= limitNs);
  }

  #clockNs(): bigint {
    return BigInt(Math.floor(this.#clock.now())) * NS_PER_MS;
  }

  // ------------------------------------------------------------------ commit

  /**
   * Make everything archived so far durable and record it: end each open file's gzip member and
   * fsync it, close `close` (sha256 of the final bytes), save the checkpoint (with `register` as a
   * new open file of 0 bytes, and the manifest changes), then apply the manifest changes and queue
   * uploads. Runs under the mutex.
   */
  async #commit(o: { close?: OpenFile[]; register?: OpenFile | undefined; ops?: ManifestOp[] } = {}): Promise<void> {
    if (this.#fatal !== undefined) throw this.#fatal;
    for (const f of this.#open.values()) {
      if (!f.dirty || f.raw === undefined) continue;
      const before = f.bytes;
      f.bytes = await f.raw.commit();
      f.dirty = false;
      this.#n.bytes += f.bytes - before;
    }
    for (const f of o.close ?? []) {
      const slot = `${f.day}/${f.hour}`;
      if (this.#open.get(slot) === f) this.#open.delete(slot);
      await f.raw?.close();
      f.raw = undefined;
      if (f.lines === 0) {
        await fsp.rm(f.path, { force: true });
        continue;
      }
      const { sha256, size } = await sha256File(f.path);
      if (size !== f.bytes) throw new ArchiverStateError(`${f.path} is ${size} bytes at close, ${f.bytes} were committed`);
      this.#pending.push({ op: 'file', day: f.day, file: manifestEntry(f, sha256) });
      this.#n.closed++;
    }
    this.#pending.push(...(o.ops ?? []));
    if (o.register !== undefined) this.#open.set(`${o.register.day}/${o.register.hour}`, o.register);
    this.#nextCloseNs = [...this.#open.values()].reduce((min, f) => (f.endNs + this.#graceNs < min ? f.endNs + this.#graceNs : min), NO_CLOSE);

    await this.#saveCheckpoint();
    this.#committedSeq = this.#seq;
    this.#uncommitted = 0;
    this.#lastCommitAt = this.#clock.now();
    this.#n.commits++;
    if (this.#pending.length > 0) await this.#applyPending();
  }

  async #saveCheckpoint(): Promise<void> {
    const cp: ArchiveCheckpoint = {
      v: 1,
      stream: this.#stream,
      journalSeq: this.#seq,
      open: [...this.#open.values()].map(openEntry),
      conns: this.#continuity.snapshot(this.#maxRecvNs),
      maxRecvNs: this.#maxRecvNs?.toString() ?? null,
      pending: this.#pending,
      unsettled: [...this.#uploads.unsettled].sort(),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await saveCheckpoint(this.#o.db, CHECKPOINT_JOB, this.#scope, cp, this.#runId);
        return;
      } catch (err) {
        // Files are fsynced, so retrying (or dying and resuming from the previous checkpoint) is safe.
        if (attempt >= CHECKPOINT_ATTEMPTS) throw new ArchiverStateError(`saving checkpoint archive/${this.#scope} failed ${attempt} times: ${String(err)}`, { cause: err });
        await this.#clock.sleep(Math.min(5_000, 100 * 2 ** attempt));
      }
    }
  }

  /** Apply the manifest changes recorded in the checkpoint, then queue uploads. Idempotent. */
  async #applyPending(): Promise<void> {
    const byDay = new Map<string, ManifestOp[]>();
    for (const op of this.#pending) byDay.set(op.day, [...(byDay.get(op.day) ?? []), op]);
    for (const [day, ops] of byDay) {
      const toUpload: string[] = [];
      const wrote = await this.#manifests.update(day, (m) => {
        let changed = false;
        for (const op of ops) changed = applyOp(m, op) || changed;
        for (const op of ops) if (op.op === 'file' && m.files.find((f) => f.name === op.file.name)?.uploaded !== true) toUpload.push(op.file.name);
        return changed;
      });
      for (const name of toUpload) await this.#uploads.enqueueFile(day, name);
      if (wrote) await this.#uploads.enqueueManifest(day);
    }
    this.#pending = [];
    this.#uploads.kick();
  }

  /** Timer tick while running: time-based commit; when idle, close files whose hour ended by the clock. */
  async #tick(): Promise<void> {
    const idle = this.#handledSinceTick === 0;
    this.#handledSinceTick = 0;
    const close = idle ? this.#endedBy(this.#clockNs() - this.#graceNs) : [];
    const dirty = [...this.#open.values()].some((f) => f.dirty);
    if (close.length > 0 || (dirty && this.#clock.now() - this.#lastCommitAt >= this.#t.commitIntervalMs)) await this.#commit({ close });
    // Messages known to be in the stream for consumerStallMs, none delivered since: restart the consumer.
    const now = this.#clock.now();
    const stall = this.#t.consumerStallMs;
    if (this.#behindSince !== undefined && this.#lastProgressAt < this.#behindSince && now - this.#behindSince >= stall && this.#restartConsumer) {
      this.#n.consumerRestarts++;
      this.#behindSince = undefined;
      this.#restartConsumer();
      this.#restartConsumer = undefined;
    }
    if (now - this.#lastLagAt >= Math.min(LAG_REFRESH_MS, stall / 2)) {
      void this.#refreshLag().catch((err: unknown) => {
        if (err instanceof ArchiverStateError) this.#fatal ??= err; // the consume loop stops on it
      });
    }
  }

  /** Look at the stream: lag, and refuse a stream that was recreated (sequences went backwards). */
  async #refreshLag(): Promise<void> {
    this.#lastLagAt = this.#clock.now();
    const info = await this.#o.journal.info(this.#stream);
    this.#streamLastSeq = info.lastSeq;
    const now = this.#clock.now();
    if (info.lastSeq <= this.#seq) this.#behindSince = undefined;
    else if (this.#behindSince === undefined || this.#lastProgressAt >= this.#behindSince) this.#behindSince = now;
    if (info.lastSeq < this.#committedSeq) {
      throw new ArchiverStateError(
        `stream ${this.#stream} ends at sequence ${info.lastSeq} but the archive already holds up to ${this.#committedSeq}: the stream was recreated; archive it under a new stream name or reset the archive checkpoint`,
      );
    }
  }

  // ------------------------------------------------------------------ restore

  async #restore(cp: ArchiveCheckpoint | undefined): Promise<void> {
    if (cp === undefined) return;
    for (const e of cp.open) {
      const f: OpenFile = {
        key: e.file, path: blockPath(this.#o.blockDir, e.file), day: e.day, hour: e.hour, name: e.name, endNs: hourEndNs(e.day, e.hour), raw: undefined, bytes: e.bytes, dirty: false,
        lines: e.lineCount, uncompressedBytes: e.uncompressedBytes, firstJournalSeq: e.firstJournalSeq, lastJournalSeq: e.lastJournalSeq,
        firstRecvNs: e.firstRecvNs === null ? undefined : BigInt(e.firstRecvNs), lastRecvNs: e.lastRecvNs === null ? undefined : BigInt(e.lastRecvNs),
        connections: new Map(Object.entries(e.connections).map(([k, v]) => [k, { ...v }])),
      };
      this.#open.set(`${e.day}/${e.hour}`, f);
      f.raw = await RawFile.open(f.path, e.bytes); // cuts off what was written after the last commit
      if (f.raw.droppedBytes !== 0) this.#recovered.push({ file: f.key, committedBytes: e.bytes, droppedBytes: f.raw.droppedBytes });
    }
    this.#nextCloseNs = [...this.#open.values()].reduce((min, f) => (f.endNs + this.#graceNs < min ? f.endNs + this.#graceNs : min), NO_CLOSE);
    if (this.#pending.length > 0) await this.#applyPending();
  }

  async #closeFiles(): Promise<void> {
    for (const f of this.#open.values()) {
      await f.raw?.close().catch(() => undefined);
      f.raw = undefined;
    }
  }

  // ------------------------------------------------------------------ helpers

  #enter(mode: 'run' | 'catchUp'): void {
    this.#assertUsable();
    if (this.#mode !== 'idle') throw new ArchiverBusyError(`${mode} while ${this.#mode} is active`);
    this.#mode = mode;
  }

  #assertUsable(): void {
    if (this.#mode === 'closed') throw new ArchiverBusyError(`archiver ${this.#what()} is closed`);
    if (this.#fatal !== undefined) throw new ArchiverStateError(`archiver ${this.#what()} failed earlier and must be reopened: ${String(this.#fatal)}`, { cause: this.#fatal });
  }

  #what(): string {
    return `archive ${this.#o.env}/${this.#o.feed}`;
  }

  #finding(f: ArchiverFinding): void {
    try {
      this.#o.findings.record(f);
    } catch {
      // a failing sink must not stop archiving
    }
  }
}

function manifestEntry(f: OpenFile, sha256: string): ManifestFile {
  return {
    name: f.name, sha256, bytes: f.bytes, lines: f.lines, firstJournalSeq: f.firstJournalSeq, lastJournalSeq: f.lastJournalSeq,
    firstRecvNs: (f.firstRecvNs ?? 0n).toString(), lastRecvNs: (f.lastRecvNs ?? 0n).toString(),
    connections: Object.fromEntries([...f.connections].map(([k, v]) => [k, { ...v }])), uploaded: false,
  };
}

function openEntry(f: OpenFile): OpenFileCheckpoint {
  return {
    file: f.key, day: f.day, hour: f.hour, name: f.name, bytes: f.bytes, lineCount: f.lines, uncompressedBytes: f.uncompressedBytes,
    firstJournalSeq: f.firstJournalSeq, lastJournalSeq: f.lastJournalSeq, firstRecvNs: f.firstRecvNs?.toString() ?? null, lastRecvNs: f.lastRecvNs?.toString() ?? null,
    connections: Object.fromEntries([...f.connections].map(([k, v]) => [k, { ...v }])),
  };
}

function nsToMs(ns: bigint): number {
  return Number(ns / NS_PER_MS);
}
