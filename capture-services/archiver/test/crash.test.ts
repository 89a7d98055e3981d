/**
 * Crash safety (M15): an archiver in a child process is `kill -9`ed at random moments while frames
 * keep arriving, three times, and restarted; after a final catch-up the archive holds every frame
 * exactly once, every file is valid gzip, and manifests and uploads agree with the files. The
 * catalog is a throwaway database on the real Postgres server (it must survive the kills).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import { openLocalJournal, type LocalJournal } from '../../../core/src/middleware/journal/local.js';
import { LocalObjectStore } from '../../../core/src/middleware/storage/local.js';
import { startPostgres, type PostgresDatabase } from '../../../test/harness/postgres.js';
import type { RawFrame } from '../../raw/src/frame.js';
import { bySeq, nsAt, planFrames, publishAll, rawSpec, tempDir, verifyArchive } from './helpers.js';

const ENV = 'lab';
const FEED = 'kalshi';
const ROOT = path.resolve(import.meta.dirname, '../../..');
const SCRIPT = path.join(import.meta.dirname, 'run-archiver.ts');

let pg: PostgresDatabase;
let catalog: Catalog;
let dir: string;
let journal: LocalJournal;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  pg = await startPostgres();
  catalog = await openCatalog(pg.url); // migrations once, before any child
  dir = await tempDir('crash');
  journal = await openLocalJournal({ dir: path.join(dir, 'journal'), fsyncIntervalMs: 2 });
  await journal.ensureStreams([rawSpec(ENV, FEED)]);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await journal?.close();
  await catalog?.close();
  await pg?.stop();
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

interface Child {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(pred: (line: string) => boolean, timeoutMs?: number): Promise<string>;
}

/** Tunables per process, as a deployment would set them; they may change between restarts. */
const TINY = { SSMD_ARCHIVER_MAX_FILE_BYTES: '6000', SSMD_ARCHIVER_COMMIT_EVERY: '25', SSMD_ARCHIVER_COMMIT_INTERVAL_MS: '50', SSMD_ARCHIVER_HOUR_GRACE_MS: '5000' };
const LARGE = { SSMD_ARCHIVER_MAX_FILE_BYTES: String(4 * 1024 * 1024), SSMD_ARCHIVER_COMMIT_EVERY: '5000', SSMD_ARCHIVER_COMMIT_INTERVAL_MS: '2000', SSMD_ARCHIVER_HOUR_GRACE_MS: '5000' };

async function startChild(mode: 'run' | 'final', tunables: Record<string, string>): Promise<Child> {
  const cfgFile = path.join(dir, `child-${mode}-${Date.now()}.json`);
  await fsp.writeFile(cfgFile, JSON.stringify({
    mode, env: ENV, feed: FEED, journalDir: path.join(dir, 'journal'), blockDir: path.join(dir, 'block'), storeRoot: path.join(dir, 'objects'),
    uploadStateDir: path.join(dir, 'uploads'), catalogUrl: pg.url,
  }));
  const proc = spawn(process.execPath, ['--import', 'tsx', SCRIPT, cfgFile], {
    cwd: ROOT,
    env: { ...process.env, ...tunables },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let buf = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters) w();
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      for (const w of waiters) w();
      resolve({ code, signal });
    }),
  );
  const waitFor = (pred: (line: string) => boolean, timeoutMs = 30_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out waiting for the archiver child; stderr:\n${stderr}`)), timeoutMs);
      const check = (): void => {
        const hit = lines.find(pred);
        if (hit !== undefined) finish(undefined, hit);
        else if (proc.exitCode !== null || proc.signalCode !== null) finish(new Error(`archiver child exited (${proc.exitCode ?? proc.signalCode}); stderr:\n${stderr}`));
      };
      const finish = (err?: Error, line?: string): void => {
        clearTimeout(timer);
        waiters.delete(check);
        if (err) reject(err);
        else resolve(line!);
      };
      waiters.add(check);
      check();
    });
  return { proc, lines, exited, waitFor };
}

describe('archiver crash safety', () => {
  it('kill -9 at random moments, three times, while frames keep arriving: every frame archived exactly once', async () => {
    // 0.2 s apart in receive time from 23:54Z: the UTC day changes after 1800 frames, then an hour is 18 000 frames.
    const start = nsAt('2026-11-20T23:54:00Z');
    const plan = planFrames({ env: ENV, feed: FEED, conns: ['kalshi-0-1-1', 'kalshi-1-1-1', 'kalshi-2-1-1'], count: 40_000, recvNs: (i) => start + BigInt(i) * 200_000_000n });
    const published: RawFrame[] = [];
    const seqs: number[] = [];
    let stop = false;
    const publisher = (async () => {
      for (let i = 0; !stop && i < plan.length; i += 50) {
        const batch = plan.slice(i, i + 50);
        seqs.push(...(await publishAll(journal, batch)));
        published.push(...batch);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const kills: number[] = [];
    const recovered: unknown[] = [];
    const findings: string[] = [];
    let lastCommitted = 0;
    for (let round = 0; round < 3; round++) {
      const large = round === 1;
      // The large-batch round starts with a backlog and is killed while working through it,
      // between commits, when gzip output has reached the file but no checkpoint covers it yet.
      while (large && published.length < lastCommitted + 10_000) await new Promise((r) => setTimeout(r, 50));
      const child = await startChild('run', large ? LARGE : TINY);
      const opened = await child.waitFor((l) => l.startsWith('opened '));
      recovered.push(...(JSON.parse(opened.split(' ').slice(2).join(' ')) as unknown[]));
      lastCommitted = Math.max(lastCommitted, Number(opened.split(' ')[1])); // it may have committed after its last progress line
      if (large) {
        await child.waitFor((l) => l.startsWith('progress ') && Number(l.slice(9)) > lastCommitted);
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 250)));
      } else {
        // wait until it has committed something new, then kill it at a random moment
        await child.waitFor((l) => l.startsWith('progress ') && Number(l.slice(9)) > lastCommitted);
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 1200)));
      }
      child.proc.kill('SIGKILL');
      const { signal } = await child.exited;
      expect(signal).toBe('SIGKILL');
      findings.push(...child.lines.filter((l) => l.startsWith('finding ')));
      const progress = child.lines.filter((l) => l.startsWith('progress ')).map((l) => Number(l.slice(9)));
      lastCommitted = Math.max(lastCommitted, ...progress);
      kills.push(lastCommitted);
    }
    stop = true;
    await publisher;
    expect(published.length).toBeGreaterThan(lastCommitted);

    const final = await startChild('final', LARGE);
    const opened = await final.waitFor((l) => l.startsWith('opened '));
    recovered.push(...(JSON.parse(opened.split(' ').slice(2).join(' ')) as unknown[]));
    const done = await final.waitFor((l) => l.startsWith('done '), 120_000);
    expect((await final.exited).code).toBe(0);
    expect(Number(done.split(' ')[1])).toBe(seqs.length);
    const report = JSON.parse(done.split(' ').slice(2).join(' ')) as { pending: number };
    expect(report.pending).toBe(0);
    findings.push(...final.lines.filter((l) => l.startsWith('finding ')));
    expect(findings).toEqual([]); // no journal gap, connection gap or repeat in any run: nothing lost, nothing duplicated

    // exactly once, byte-exact, valid gzip, manifests agree with the files on disk
    const { files, manifests } = await verifyArchive({ blockDir: path.join(dir, 'block'), env: ENV, feed: FEED, published: bySeq(published, seqs), allClosed: true });
    expect(files.length).toBeGreaterThan(10);
    expect(manifests.length).toBeGreaterThanOrEqual(2);
    // uploads: every closed file and manifest is in the object store with the manifest's sha256
    const store = new LocalObjectStore({ root: path.join(dir, 'objects'), prefix: ENV });
    for (const m of manifests) {
      expect(m.complete).toBe(true);
      for (const e of m.files) {
        expect(e.uploaded).toBe(true);
        expect(await store.head(`raw/${ENV}/${FEED}/${m.day}/${e.name}`)).toMatchObject({ size: e.bytes, sha256: e.sha256 });
      }
      const stored = await store.get(`raw/${ENV}/${FEED}/${m.day}/manifest.json`);
      let text = '';
      for await (const chunk of stored) text += String(chunk);
      expect(JSON.parse(text)).toEqual(m);
    }
    console.log(`crash test: ${published.length} frames, killed at committed seqs ${kills.join(', ')}, ${files.length} files over ${manifests.length} days; tails cut on restart: ${JSON.stringify(recovered)}`);
  }, 240_000);
});
