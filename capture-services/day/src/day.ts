import { join } from 'node:path';
import { writeFileAtomic } from '../../../core/src/fsutil.js';
import type { Kysely } from 'kysely';
import type { Environment } from '../../../core/src/environment/schema.js';
import type { FindingSink } from '../../../core/src/middleware/findings.js';
import { openMiddleware, type CredentialResolver } from '../../../core/src/middleware/open.js';
import type { Database } from '../../../catalog/src/database.js';
import { CatalogFindingSink } from '../../../catalog/src/dq/catalog-finding-sink.js';
import { finishRun, startRun } from '../../../catalog/src/runs/run.repository.js';
import { openArchiver, type Archiver, type ArchiverStats, type Manifest } from '../../archiver/src/index.js';
import type { CaptureStats } from '../../connector/src/capture.js';
import { runCapture } from '../../connector/src/run.js';

/** What `ssmd day status` shows: written by the running day every few seconds. */
export interface DayStatus {
  env: string;
  pid: number;
  state: 'running' | 'stopping' | 'stopped' | 'failed';
  startedAt: string;
  updatedAt: string;
  runId: string;
  feeds: Array<{ feed: string; shards: Array<{ shard: number; instruments: number; stats: CaptureStats }>; archiver: ArchiverStats | null; error?: string }>;
  manifests: Array<Pick<Manifest, 'feed' | 'day' | 'complete'> & { files: number; frames: number }>;
  error?: string;
}

export interface RunDayOptions {
  env: Environment;
  home: string;
  cwd: string;
  db: Kysely<Database>;
  resolveCredential: CredentialResolver;
  /** Aborting ends the day: capture stops, the archive catches up, the UTC days touched are closed and uploaded. */
  signal: AbortSignal;
  codeVersion: string;
  /** Where to write the status file (default `<home>/run/<env>/status.json`). */
  statusFile?: string;
  /** Per feed WebSocket URL overrides (simulators). */
  wsUrls?: Record<string, string>;
  statusEveryMs?: number;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

async function writeStatus(file: string, s: DayStatus): Promise<void> {
  await writeFileAtomic(file, Buffer.from(`${JSON.stringify(s, null, 2)}\n`));
}

/**
 * One trading day of an environment in this process (M3): capture every feed into the journal
 * while an archiver per feed follows it; when `signal` aborts, tear down in order: stop capture,
 * let each archiver catch up to the end of its stream, close every UTC day the trading day
 * touched (final files, complete manifests) and upload. The same steps are the activities a
 * Temporal workflow will call (issue 7).
 */
export async function runDay(o: RunDayOptions): Promise<DayStatus> {
  const statusFile = o.statusFile ?? join(o.home, 'run', o.env.name, 'status.json');
  const mw = await openMiddleware(o.env, { home: o.home, cwd: o.cwd, resolveCredential: o.resolveCredential });
  const started = mw.clock.now();
  const run = await startRun(o.db, { kind: 'day', codeVersion: o.codeVersion, environment: o.env.name, day: day(started) });
  const status: DayStatus = {
    env: o.env.name, pid: process.pid, state: 'running', startedAt: new Date(started).toISOString(), updatedAt: new Date(started).toISOString(),
    runId: run.id, feeds: o.env.feeds.map((f) => ({ feed: f.name, shards: [], archiver: null })), manifests: [],
  };
  const captureStop = new AbortController();
  const archiveStop = new AbortController();
  const stopCapture = () => captureStop.abort();
  o.signal.addEventListener('abort', stopCapture, { once: true });
  const archivers: Archiver[] = [];
  const sinks: CatalogFindingSink[] = [];
  const report = async () => {
    status.updatedAt = new Date().toISOString();
    o.env.feeds.forEach((_, i) => { status.feeds[i]!.archiver = archivers[i]?.stats() ?? null; });
    await writeStatus(statusFile, status).catch(() => undefined);
  };
  const ticker = setInterval(() => void report(), o.statusEveryMs ?? 2_000);
  try {
    for (const feed of o.env.feeds) {
      const sink = new CatalogFindingSink(o.db, { feed: feed.name, source: `archiver:${feed.name}`, runId: run.id });
      sinks.push(sink);
      archivers.push(await openArchiver({
        env: o.env.name, feed: feed.name, journal: mw.journal, blockDir: join(o.cwd, o.env.storage.block), store: mw.storage,
        uploadStateDir: join(o.home, 'uploads', o.env.name, feed.name), db: o.db, clock: mw.clock, findings: sink, codeVersion: o.codeVersion,
      }));
    }
    const following = archivers.map((a) => a.run(archiveStop.signal));
    await report();
    const captures = await Promise.allSettled(o.env.feeds.map((feed, i) => {
      const findings: FindingSink = new CatalogFindingSink(o.db, { feed: feed.name, source: `connector:${feed.name}`, runId: run.id });
      sinks.push(findings as CatalogFindingSink);
      return runCapture({
        env: o.env, feed: feed.name, middleware: mw, db: o.db, resolveCredential: o.resolveCredential, findings, signal: captureStop.signal,
        codeVersion: o.codeVersion, ...(o.wsUrls?.[feed.name] ? { wsUrl: o.wsUrls[feed.name] } : {}),
        onShard: (shard, instruments, stats) => status.feeds[i]!.shards.push({ shard, instruments, stats }),
      });
    }));
    captures.forEach((c, i) => { if (c.status === 'rejected') status.feeds[i]!.error = (c.reason as Error)?.message ?? String(c.reason); });
    status.state = 'stopping';
    await report();
    // Teardown: the archivers stop following, catch up to the end of each stream, close the days.
    archiveStop.abort();
    await Promise.allSettled(following);
    const days = new Set([day(started), day(mw.clock.now())]);
    for (const a of archivers) {
      await a.catchUp();
      for (const d of [...days].sort()) {
        const m = await a.closeDay(d);
        status.manifests.push({ feed: m.feed, day: m.day, complete: m.complete, files: m.files.length, frames: m.files.reduce((n, f) => n + f.lines, 0) });
      }
      await a.flushUploads();
    }
    const failed = status.feeds.filter((f) => f.error);
    status.state = failed.length === o.env.feeds.length ? 'failed' : 'stopped';
    if (failed.length) status.error = failed.map((f) => `${f.feed}: ${f.error}`).join('; ');
    await finishRun(o.db, run.id, status.state === 'failed' ? 'failed' : 'succeeded', status.error);
    return status;
  } catch (err) {
    status.state = 'failed';
    status.error = (err as Error).message;
    await finishRun(o.db, run.id, 'failed', status.error);
    throw err;
  } finally {
    clearInterval(ticker);
    o.signal.removeEventListener('abort', stopCapture);
    for (const s of sinks) await s.flush();
    for (const a of archivers) await a.close().catch(() => undefined);
    await report();
    await mw.close();
  }
}
