/**
 * Uploading closed raw files and manifests through the durable UploadQueue, and recording in each
 * manifest which files the object store holds with the manifest's sha256 (`uploaded: true`).
 *
 * A day is "unsettled" while one of its files is not uploaded or the manifest on block storage
 * differs from the last one uploaded. Unsettled days are kept in the checkpoint, and a new
 * instance reconciles them once (HEAD each file not uploaded and not queued; queue what the store
 * does not hold), so a crash between an upload and the manifest update loses nothing.
 */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import type { Clock, TimerHandle } from '../../../core/src/middleware/clock.js';
import type { ObjectInfo, ObjectStore } from '../../../core/src/middleware/storage.js';
import type { UploadQueue } from '../../../core/src/middleware/storage/upload-queue.js';
import { blockPath, dayKey, MANIFEST_NAME, parseDayKey } from './layout.js';
import type { ManifestStore } from './manifest.js';

/** What one upload pass did. */
export interface UploadReport {
  uploaded: number;
  failed: number;
  /** Jobs still in the outbox after the pass. */
  pending: number;
}

export interface ArchiveUploadsOptions {
  env: string;
  feed: string;
  blockDir: string;
  store: ObjectStore;
  queue: UploadQueue;
  clock: Clock;
  manifests: ManifestStore;
  unsettled: Iterable<string>;
}

export class ArchiveUploads {
  readonly #o: ArchiveUploadsOptions;
  readonly unsettled: Set<string>;
  /** sha256 of the manifest version last uploaded, per day. */
  readonly #manifestSha = new Map<string, string>();
  #reconciled = false;
  #running: Promise<UploadReport> | undefined;
  #again = false;
  #background = false;
  #timer: TimerHandle | undefined;
  uploadedTotal = 0;
  lastError: string | undefined;

  constructor(o: ArchiveUploadsOptions) {
    this.#o = o;
    this.unsettled = new Set(o.unsettled);
  }

  pending(): number {
    return this.#o.queue.pending().length;
  }

  /** Queue a closed file (unless already queued) and mark its day unsettled. */
  async enqueueFile(day: string, name: string): Promise<void> {
    this.unsettled.add(day);
    await this.#enqueue(dayKey(this.#o.env, this.#o.feed, day, name));
  }

  /** Queue the day's manifest (unless already queued) and mark the day unsettled. */
  async enqueueManifest(day: string): Promise<void> {
    this.unsettled.add(day);
    await this.#enqueue(dayKey(this.#o.env, this.#o.feed, day, MANIFEST_NAME));
  }

  /** Run a pass now (after the one in progress, if any) and report it. */
  async flush(): Promise<UploadReport> {
    await this.#running?.catch(() => undefined);
    return this.#start();
  }

  /** Upload in the background: a pass now (or after the running one), retries with the queue's backoff. */
  startBackground(): void {
    this.#background = true;
    this.kick();
  }

  /** Ask for a background pass (coalesced with a running one). */
  kick(): void {
    if (!this.#background) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    void this.#start().catch((err: unknown) => {
      this.lastError = String(err); // shown in stats(); the next kick or flush tries again
    });
  }

  /** Stop the background loop and wait for a pass in progress. */
  async stopBackground(): Promise<void> {
    this.#background = false;
    if (this.#timer !== undefined) this.#o.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  #start(): Promise<UploadReport> {
    const run = this.#pass().finally(() => {
      this.#running = undefined;
      if (!this.#background) return;
      if (this.#again) {
        this.#again = false;
        this.kick();
        return;
      }
      this.#scheduleRetry();
    });
    this.#running = run;
    return run;
  }

  #scheduleRetry(): void {
    const jobs = this.#o.queue.pending();
    if (jobs.length === 0) return;
    const due = Math.min(...jobs.map((j) => j.nextAttemptAt));
    if (this.#timer !== undefined) this.#o.clock.clearTimer(this.#timer);
    this.#timer = this.#o.clock.setTimer(() => {
      this.#timer = undefined;
      this.kick();
    }, Math.max(0, due - this.#o.clock.now()));
  }

  async #pass(): Promise<UploadReport> {
    if (!this.#reconciled) {
      await this.#reconcile();
      this.#reconciled = true;
    }
    let uploaded = 0;
    let failed = 0;
    // Files first; marking them changes manifests, which then go up too. A manifest rewritten while
    // an older version was uploading is queued again here (its job was still pending then).
    for (let round = 0; round < 4; round++) {
      const res = await this.#o.queue.drain();
      uploaded += res.uploaded.length;
      failed = res.failed.length;
      if (res.failed.length > 0) this.lastError = String(res.failed[0]!.error);
      const again = await this.#record(res.uploaded);
      for (const day of await this.#staleManifests()) again.add(day);
      for (const day of again) await this.enqueueManifest(day);
      if (again.size === 0 || res.failed.length > 0) break;
    }
    this.uploadedTotal += uploaded;
    await this.#settle();
    return { uploaded, failed, pending: this.pending() };
  }

  /** Unsettled days whose manifest on block storage is not the version last uploaded, and not queued. */
  async #staleManifests(): Promise<string[]> {
    const queued = new Set(this.#o.queue.pending().map((j) => j.key));
    const out: string[] = [];
    for (const day of this.unsettled) {
      if (queued.has(dayKey(this.#o.env, this.#o.feed, day, MANIFEST_NAME))) continue;
      const sha = await this.#localManifestSha(day);
      if (sha !== undefined && sha !== this.#manifestSha.get(day)) out.push(day);
    }
    return out;
  }

  async #localManifestSha(day: string): Promise<string | undefined> {
    const bytes = await fsp.readFile(this.#o.manifests.path(day)).catch(() => undefined);
    return bytes === undefined ? undefined : createHash('sha256').update(bytes).digest('hex');
  }

  /** Mark uploaded files in their manifests; returns the days whose manifest changed. */
  async #record(infos: ObjectInfo[]): Promise<Set<string>> {
    const byDay = new Map<string, Map<string, string>>();
    for (const info of infos) {
      const k = parseDayKey(this.#o.env, this.#o.feed, info.key);
      if (k === undefined) continue;
      if (k.name === MANIFEST_NAME) this.#manifestSha.set(k.day, info.sha256);
      else {
        const names = byDay.get(k.day) ?? new Map<string, string>();
        names.set(k.name, info.sha256);
        byDay.set(k.day, names);
      }
    }
    const changed = new Set<string>();
    for (const [day, names] of byDay) {
      const wrote = await this.#o.manifests.update(day, (m) => {
        let any = false;
        for (const f of m.files) {
          if (!f.uploaded && names.get(f.name) === f.sha256) {
            f.uploaded = true;
            any = true;
          }
        }
        return any;
      });
      if (wrote) changed.add(day);
    }
    return changed;
  }

  /** Once per instance: every file of an unsettled day is either queued, or held by the store with the same sha256. */
  async #reconcile(): Promise<void> {
    const queued = new Set(this.#o.queue.pending().map((j) => j.key));
    for (const day of [...this.unsettled]) {
      if (!(await this.#o.manifests.exists(day))) {
        this.unsettled.delete(day);
        continue;
      }
      const m = await this.#o.manifests.read(day);
      const held = new Map<string, string>();
      for (const f of m.files) {
        const key = dayKey(this.#o.env, this.#o.feed, day, f.name);
        if (f.uploaded || queued.has(key)) continue;
        const info = await this.#o.store.head(key).catch(() => undefined);
        if (info !== undefined && info.sha256 === f.sha256 && info.size === f.bytes) held.set(f.name, f.sha256);
        else await this.#enqueue(key);
      }
      if (held.size > 0) {
        await this.#o.manifests.update(day, (mm) => {
          let any = false;
          for (const f of mm.files) {
            if (!f.uploaded && held.get(f.name) === f.sha256) {
              f.uploaded = true;
              any = true;
            }
          }
          return any;
        });
      }
      await this.enqueueManifest(day);
    }
  }

  /** Forget days that are fully uploaded, manifest included. */
  async #settle(): Promise<void> {
    const queued = new Set(this.#o.queue.pending().map((j) => j.key));
    for (const day of [...this.unsettled]) {
      const prefix = dayKey(this.#o.env, this.#o.feed, day, '');
      if ([...queued].some((k) => k.startsWith(prefix))) continue;
      const sha = await this.#localManifestSha(day);
      if (sha === undefined) {
        this.unsettled.delete(day);
        continue;
      }
      const m = await this.#o.manifests.read(day);
      if (m.files.every((f) => f.uploaded) && this.#manifestSha.get(day) === sha) this.unsettled.delete(day);
    }
  }

  async #enqueue(key: string): Promise<void> {
    if (this.#o.queue.pending().some((j) => j.key === key)) return;
    await this.#o.queue.enqueue(key, blockPath(this.#o.blockDir, key));
  }
}
