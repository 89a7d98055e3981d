/**
 * Fixed memory profile (M15): archiving 500 000 frames streams them; the heap does not grow with
 * the number of frames or the size of a file. Measured after forced GCs (not a timing test).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import { MemoryFindingSink } from '../../../core/src/middleware/findings.js';
import { openLocalJournal } from '../../../core/src/middleware/journal/local.js';
import { LocalObjectStore } from '../../../core/src/middleware/storage/local.js';
import { toJournalRecord } from '../../raw/src/frame.js';
import { openArchiver } from '../src/index.js';
import { bodyFor, nsAt, rawSpec, readManifests, tempDir } from './helpers.js';

const ENV = 'lab';
const FEED = 'kalshi';
const N = 500_000;
const MB = 1024 * 1024;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let catalog: Catalog;
let dir: string;

beforeAll(async () => {
  catalog = await openCatalog('pglite:memory');
  dir = await tempDir('mem');
});
afterAll(async () => {
  await catalog?.close();
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

describe('archiver memory', () => {
  it(`archives ${N} frames with a flat heap`, async () => {
    // Publish with a writer, then close it: its duplicate window (N message ids) is not ours to measure.
    const jdir = path.join(dir, 'journal');
    const writer = await openLocalJournal({ dir: jdir, fsyncIntervalMs: 5 });
    await writer.ensureStreams([rawSpec(ENV, FEED)]);
    const start = nsAt('2026-11-29T09:00:00Z');
    const conns = ['kalshi-0-1-1', 'kalshi-1-1-1', 'kalshi-2-1-1', 'kalshi-3-1-1'];
    for (let i = 0; i < N; i += 5_000) {
      const batch: Promise<unknown>[] = [];
      for (let k = i; k < Math.min(N, i + 5_000); k++) {
        const conn = conns[k % conns.length]!;
        batch.push(writer.publish(toJournalRecord({
          env: ENV, feed: FEED, shard: k % conns.length, conn, connSeq: Math.floor(k / conns.length) + 1, recvNs: start + BigInt(k) * 5_000_000n,
          type: 'ticker', symbol: `KXBTCD-26NOV30-T${90000 + (k % 50) * 100}`, bytes: bodyFor(k, conn),
        })));
      }
      await Promise.all(batch);
    }
    await writer.close();

    const journal = await openLocalJournal({ dir: jdir, readOnly: true });
    const a = await openArchiver({
      env: ENV, feed: FEED, journal, blockDir: path.join(dir, 'block'), store: new LocalObjectStore({ root: path.join(dir, 'objects'), prefix: ENV }),
      uploadStateDir: path.join(dir, 'uploads'), db: catalog.db, findings: new MemoryFindingSink(),
    });
    gc();
    const base = process.memoryUsage();
    let peakHeap = 0;
    let peakRss = 0;
    const sample = setInterval(() => {
      gc();
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }, 200);
    const t0 = Date.now();
    try {
      await a.catchUp();
    } finally {
      clearInterval(sample);
    }
    const ms = Date.now() - t0;
    gc();
    const end = process.memoryUsage();
    peakHeap = Math.max(peakHeap, end.heapUsed);
    peakRss = Math.max(peakRss, end.rss);
    const s = a.stats();
    expect(s).toMatchObject({ frames: N, lastJournalSeq: N, lag: 0 });
    await a.closeDay('2026-11-29');
    await a.close();
    await journal.close();
    const [m] = await readManifests(path.join(dir, 'block'), ENV, FEED);
    expect(m!.files.reduce((n, f) => n + f.lines, 0)).toBe(N);
    // one hour of frames, more than the default 64 MiB of lines: rotated by size, never held in memory
    expect(s.uncompressedBytes).toBeGreaterThan(64 * MB);
    expect(m!.files.length).toBe(2);
    expect(m!.files.every((f) => f.name.startsWith('09-'))).toBe(true);

    const heapGrowth = (peakHeap - base.heapUsed) / MB;
    const rssGrowth = (peakRss - base.rss) / MB;
    console.log(`memory: ${N} frames (${(s.uncompressedBytes / MB).toFixed(0)} MB of lines, ${(s.bytes / MB).toFixed(0)} MB gzip, ${m!.files.length} files) in ${ms} ms; heapUsed growth ${heapGrowth.toFixed(1)} MB, rss growth ${rssGrowth.toFixed(1)} MB`);
    expect(heapGrowth).toBeLessThan(50);
  }, 300_000);
});
