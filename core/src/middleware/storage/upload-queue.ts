import { randomUUID } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { RealClock, type Clock, type TimerHandle } from '../clock.js';
import type { ObjectInfo, ObjectStore } from '../storage.js';
import { assertValidKey } from './index.js';
import { writeFileAtomic } from '../../fsutil.js';

/** Options of {@link UploadQueue.open}. */
export interface UploadQueueOptions {
  /** Directory for the outbox file `uploads.jsonl` (created if missing). */
  stateDir: string;
  store: ObjectStore;
  /** Clock for retry backoff (default the wall clock). */
  clock?: Clock;
  /** Delay before the first retry of a failed job; doubles per failure (default 1 s). */
  retryBaseMs?: number;
  /** Longest delay between retries (default 5 min). */
  retryMaxMs?: number;
}

/** An upload waiting in the outbox. */
export interface UploadJob {
  id: string;
  key: string;
  /** Local file to upload; the queue never deletes it. */
  path: string;
  enqueuedAt: number;
  /** Failed attempts so far. */
  attempts: number;
  /** Earliest time (clock ms) the background loop tries it again. */
  nextAttemptAt: number;
  lastError?: string;
}

/** What one pass over the outbox did. */
export interface DrainResult {
  uploaded: ObjectInfo[];
  failed: { job: UploadJob; error: unknown }[];
}

type Line =
  | { op: 'enqueue'; id: string; key: string; path: string; at: number }
  | { op: 'fail'; id: string; at: number; error: string; attempts: number; nextAttemptAt: number }
  | { op: 'done'; id: string; at: number; sha256: string; size: number };

/**
 * A durable outbox of uploads, so an unreachable store loses nothing. Every change is appended as
 * one JSON line to `<stateDir>/uploads.jsonl` and fsynced before the call returns; reopening replays
 * it (a torn last line is ignored) and rewrites it with only the pending jobs. `drain()` tries
 * every pending job once; `start()` runs a background loop that retries failures with backoff.
 */
export class UploadQueue {
  readonly #file: string;
  readonly #store: ObjectStore;
  readonly #clock: Clock;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #jobs = new Map<string, UploadJob>();
  #chain: Promise<unknown> = Promise.resolve();
  #timer: TimerHandle | undefined;
  #running = false;

  private constructor(opts: UploadQueueOptions, file: string) {
    this.#file = file;
    this.#store = opts.store;
    this.#clock = opts.clock ?? new RealClock();
    this.#baseMs = opts.retryBaseMs ?? 1_000;
    this.#maxMs = opts.retryMaxMs ?? 300_000;
  }

  /** Open (or reopen) the outbox in `stateDir`; pending jobs from earlier runs are resumed. */
  static async open(opts: UploadQueueOptions): Promise<UploadQueue> {
    const file = path.join(opts.stateDir, 'uploads.jsonl');
    const queue = new UploadQueue(opts, file);
    const text = await fsp.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    for (const raw of text.split('\n')) {
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue; // blank, or torn by a crash mid-append
      }
      queue.#apply(line);
    }
    const compacted = [...queue.#jobs.values()].flatMap((j): Line[] => [
      { op: 'enqueue', id: j.id, key: j.key, path: j.path, at: j.enqueuedAt },
      ...(j.attempts > 0 ? [{ op: 'fail' as const, id: j.id, at: j.enqueuedAt, error: j.lastError ?? '', attempts: j.attempts, nextAttemptAt: j.nextAttemptAt }] : []),
    ]);
    await writeFileAtomic(file, Buffer.from(compacted.map((l) => `${JSON.stringify(l)}\n`).join('')));
    return queue;
  }

  /** Record an upload of `localPath` to `key`; durable once this resolves. */
  async enqueue(key: string, localPath: string): Promise<UploadJob> {
    assertValidKey(key);
    const line: Line = { op: 'enqueue', id: randomUUID(), key, path: path.resolve(localPath), at: this.#clock.now() };
    await this.#append(line);
    this.#apply(line);
    if (this.#running) this.#schedule(0);
    return { ...this.#jobs.get(line.id)! };
  }

  /** Jobs not yet uploaded, oldest first. */
  pending(): UploadJob[] {
    return [...this.#jobs.values()].map((j) => ({ ...j }));
  }

  /** Try every pending job once now (ignoring backoff), oldest first. */
  drain(): Promise<DrainResult> {
    return this.#exclusive(() => this.#pass(() => true));
  }

  /** Upload in the background: pending jobs now, new ones as they arrive, failures after their backoff. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Stop the background loop and wait for an upload in progress; the outbox stays on disk. */
  async close(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    await this.#chain.catch(() => undefined);
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined;
      const pass = this.#exclusive(() => this.#pass((j) => j.nextAttemptAt <= this.#clock.now()));
      pass.then(
        () => {
          if (!this.#running || this.#jobs.size === 0) return;
          const next = Math.min(...[...this.#jobs.values()].map((j) => j.nextAttemptAt));
          this.#schedule(Math.max(0, next - this.#clock.now()));
        },
        () => this.#running && this.#schedule(this.#baseMs), // the outbox itself failed (disk): try again later
      );
    }, delayMs);
  }

  async #pass(due: (job: UploadJob) => boolean): Promise<DrainResult> {
    const result: DrainResult = { uploaded: [], failed: [] };
    for (const job of [...this.#jobs.values()].filter(due)) {
      try {
        const info = await this.#store.putFile(job.key, job.path);
        const line: Line = { op: 'done', id: job.id, at: this.#clock.now(), sha256: info.sha256, size: info.size };
        await this.#append(line);
        this.#apply(line);
        result.uploaded.push(info);
      } catch (error) {
        const delay = Math.min(this.#maxMs, this.#baseMs * 2 ** job.attempts);
        const now = this.#clock.now();
        const message = error instanceof Error ? error.message : String(error);
        const line: Line = { op: 'fail', id: job.id, at: now, error: message, attempts: job.attempts + 1, nextAttemptAt: now + delay };
        await this.#append(line);
        this.#apply(line);
        result.failed.push({ job: { ...this.#jobs.get(job.id)! }, error });
      }
    }
    return result;
  }

  #apply(line: Line): void {
    if (line.op === 'enqueue') {
      this.#jobs.set(line.id, { id: line.id, key: line.key, path: line.path, enqueuedAt: line.at, attempts: 0, nextAttemptAt: line.at });
      return;
    }
    const job = this.#jobs.get(line.id);
    if (job === undefined) return;
    if (line.op === 'done') this.#jobs.delete(line.id);
    else Object.assign(job, { attempts: line.attempts, nextAttemptAt: line.nextAttemptAt, lastError: line.error });
  }

  async #append(line: Line): Promise<void> {
    const fh = await fsp.open(this.#file, 'a');
    try {
      await fh.appendFile(`${JSON.stringify(line)}\n`);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  // Run `fn` after every earlier pass, so a job is never uploaded twice at once.
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }
}
