/**
 * The archiver on real parts: LocalJournal in a temp dir, LocalObjectStore, the catalog on PGlite.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import { loadCheckpoint, saveCheckpoint } from '../../../catalog/src/runs/run.repository.js';
import { SimulatedClock } from '../../../core/src/middleware/clock.js';
import { MemoryFindingSink } from '../../../core/src/middleware/findings.js';
import { openLocalJournal, type LocalJournal } from '../../../core/src/middleware/journal/local.js';
import { LocalObjectStore } from '../../../core/src/middleware/storage/local.js';
import { rawStreamName } from '../../../core/src/middleware/subjects.js';
import type { ObjectStore } from '../../../core/src/middleware/storage.js';
import { toJournalRecord, type RawFrame } from '../../raw/src/frame.js';
import type { Manifest } from '../src/manifest.js';
import { openArchiver, replay, type Archiver, type ArchiverOptions } from '../src/index.js';
import { parseCheckpoint } from '../src/checkpoint.js';
import { bySeq, HOUR_NS, nsAt, planFrames, publishAll, rawSpec, readArchiveFiles, readManifests, sha256, tempDir, verifyArchive } from './helpers.js';

const ENV = 'lab';
const FEED = 'kalshi';
const CONNS = ['kalshi-0-1764360000000-1', 'kalshi-1-1764360000000-1', 'kalshi-0-1764370000000-2'];

let catalog: Catalog;
beforeAll(async () => {
  catalog = await openCatalog('pglite:memory');
});
afterAll(async () => {
  await catalog?.close();
});

interface Rig {
  dir: string;
  journal: LocalJournal;
  store: LocalObjectStore;
  findings: MemoryFindingSink;
  opts: (over?: Partial<ArchiverOptions>) => ArchiverOptions;
}
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(label: string, feed: string, spec: Parameters<typeof rawSpec>[2] = {}, journalOpts: { segmentBytes?: number } = {}): Promise<Rig> {
  const dir = await tempDir(label);
  const journal = await openLocalJournal({ dir: path.join(dir, 'journal'), fsyncIntervalMs: 1, ...journalOpts });
  await journal.ensureStreams([rawSpec(ENV, feed, spec)]);
  const store = new LocalObjectStore({ root: path.join(dir, 'objects'), prefix: ENV });
  const findings = new MemoryFindingSink();
  cleanups.push(async () => {
    await journal.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });
  return {
    dir, journal, store, findings,
    opts: (over = {}) => ({
      env: ENV, feed, journal, blockDir: path.join(dir, 'block'), store, uploadStateDir: path.join(dir, 'uploads'), db: catalog.db, findings, ...over,
    }),
  };
}

async function open(o: ArchiverOptions): Promise<Archiver> {
  const a = await openArchiver(o);
  cleanups.push(() => a.close().catch(() => undefined));
  return a;
}

/** Frames every 12 s from 2026-11-28 21:40Z to 2026-11-29 02:40Z, with stragglers placed on purpose. */
function twoDayFrames(feed: string): RawFrame[] {
  const start = nsAt('2026-11-28T21:40:00Z');
  const frames = planFrames({ env: ENV, feed, conns: CONNS, count: 1500, recvNs: (i) => start + BigInt(i) * 12_000_000_000n });
  // 22:00:12 -> 21:59:57: inside the 10 s grace, so it still goes into the open 21h file.
  frames[101]!.recvNs = nsAt('2026-11-28T21:59:57Z');
  // 23:05:00 -> 22:30:00: the 22h file is closed by then, so a new 22h file is opened for it.
  frames[425]!.recvNs = nsAt('2026-11-28T22:30:00Z');
  // 00:00:12 -> 23:59:58 the day before: inside the grace, it joins the open 23h file of the 28th.
  frames[701]!.recvNs = nsAt('2026-11-28T23:59:58Z');
  return frames;
}

describe('archiver', () => {
  it('archives frames over two UTC days byte-exact into day/hour files, with manifests, and uploads them verified', async () => {
    const r = await rig('days', FEED);
    const frames = twoDayFrames(FEED);
    const seqs = await publishAll(r.journal, frames);
    const clock = new SimulatedClock({ start: Date.parse('2026-11-29T02:45:00Z') });
    const a = await open(r.opts({ clock, maxFileBytes: 20_000, commitEvery: 100 }));
    await a.catchUp();
    const mid = a.stats();
    expect(mid).toMatchObject({ frames: 1500, lastJournalSeq: 1500, committedJournalSeq: 1500, lag: 0, files: { open: 1 } });
    expect(mid.files.closed).toBeGreaterThanOrEqual(10);

    const m28 = await a.closeDay('2026-11-28');
    const m29 = await a.closeDay('2026-11-29');
    expect(a.stats().files.open).toBe(0);
    const { files, manifests } = await verifyArchive({ blockDir: r.opts().blockDir, env: ENV, feed: FEED, published: bySeq(frames, seqs), allClosed: true });
    expect(manifests).toEqual([m28, m29]);
    for (const m of [m28, m29]) {
      expect(m).toMatchObject({ version: 1, env: ENV, feed: FEED, complete: true, gaps: [] });
      expect(m.files.every((f) => f.uploaded)).toBe(true);
    }
    expect(m28.day).toBe('2026-11-28');
    expect(m28.files.reduce((n, f) => n + f.lines, 0) + m29.files.reduce((n, f) => n + f.lines, 0)).toBe(1500);
    // hours present, and the stragglers where they belong
    expect([...new Set(files.map((f) => `${f.day} ${f.hour}`))]).toEqual(['2026-11-28 21', '2026-11-28 22', '2026-11-28 23', '2026-11-29 0', '2026-11-29 1', '2026-11-29 2']);
    const fileOf = (seq: number) => files.find((f) => f.frames.some((fr) => fr.journalSeq === seq))!;
    expect(fileOf(seqs[101]!).frames.at(-1)?.journalSeq).toBe(seqs[101]); // last line of the open 21h file
    expect(fileOf(seqs[425]!)).toMatchObject({ day: '2026-11-28', hour: 22, name: `22-${seqs[425]}.jsonl.gz` });
    expect(fileOf(seqs[425]!).frames).toHaveLength(1);
    expect(fileOf(seqs[701]!)).toMatchObject({ day: '2026-11-28', hour: 23 });
    // files rotate by size: none goes past maxFileBytes uncompressed (unless a single line)
    for (const f of files) expect(gunzipSync(f.bytes).length <= 20_000 || f.frames.length === 1).toBe(true);
    // several gzip members per file (one per commit) still read as one gzip stream
    expect(files.some((f) => f.bytes.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), 10) > 0)).toBe(true);

    // uploaded: same key, same sha256, and the manifest on the store is the one on block storage
    for (const m of [m28, m29]) {
      for (const e of m.files) {
        const key = `raw/${ENV}/${FEED}/${m.day}/${e.name}`;
        expect(await r.store.head(key)).toEqual({ key, size: e.bytes, sha256: e.sha256 });
      }
      const mkey = `raw/${ENV}/${FEED}/${m.day}/manifest.json`;
      const dest = path.join(r.dir, 'fetched', m.day, 'manifest.json');
      await r.store.getToFile(mkey, dest);
      expect(JSON.parse(await fsp.readFile(dest, 'utf8'))).toEqual(m);
    }
    const one = m29.files[0]!;
    const fetched = path.join(r.dir, 'fetched', one.name);
    expect(await r.store.getToFile(`raw/${ENV}/${FEED}/2026-11-29/${one.name}`, fetched)).toMatchObject({ sha256: one.sha256 });
    expect(sha256(await fsp.readFile(fetched))).toBe(one.sha256);
    expect(a.stats().uploads).toMatchObject({ pending: 0, lastError: null });

    // after close, the checkpoint names the last sequence, no open file, nothing left to apply or upload
    await a.close();
    const cp = parseCheckpoint('x', (await loadCheckpoint(catalog.db, 'archive', `${ENV}/${FEED}`))!.position);
    expect(cp).toMatchObject({ v: 1, stream: rawStreamName(ENV, FEED), journalSeq: 1500, open: [], pending: [], unsettled: [] });

    // replay gives the frames back in journal order within each day
    const back: RawFrame[] = [];
    for await (const f of replay({ blockDir: r.opts().blockDir, env: ENV, feed: FEED, from: new Date('2026-11-28T00:00:00Z'), to: new Date('2026-11-30T00:00:00Z') })) back.push(f);
    expect(back).toHaveLength(1500);
    const day28 = back.filter((f) => f.recvNs < nsAt('2026-11-29T00:00:00Z')).map((f) => f.journalSeq!);
    expect(day28).toEqual([...day28].sort((x, y) => x - y));
    const trades: RawFrame[] = [];
    for await (const f of replay({ blockDir: r.opts().blockDir, env: ENV, feed: FEED, from: new Date('2026-11-29T01:00:00Z'), to: new Date('2026-11-29T02:00:00Z'), types: ['trade'] })) trades.push(f);
    expect(trades.length).toBe(frames.filter((f) => f.type === 'trade' && f.recvNs >= nsAt('2026-11-29T01:00:00Z') && f.recvNs < nsAt('2026-11-29T02:00:00Z')).length);
  });

  it('a reopened archiver resumes at the checkpoint and cuts off bytes written after the last commit', async () => {
    const r = await rig('resume', 'kraken');
    const start = nsAt('2026-11-29T10:00:00Z');
    const frames = planFrames({ env: ENV, feed: 'kraken', conns: CONNS, count: 600, recvNs: (i) => start + BigInt(i) * 1_000_000_000n });
    const seqs = await publishAll(r.journal, frames.slice(0, 400));
    const clock = new SimulatedClock({ start: Date.parse('2026-11-29T10:30:00Z') });
    const first = await open(r.opts({ clock, commitEvery: 50 }));
    await first.catchUp();
    expect(first.stats()).toMatchObject({ lastJournalSeq: 400, files: { open: 1 } });
    const cp = parseCheckpoint('x', (await loadCheckpoint(catalog.db, 'archive', `${ENV}/kraken`))!.position);
    const openFile = path.join(r.opts().blockDir, ...cp.open[0]!.file.split('/'));
    expect((await fsp.stat(openFile)).size).toBe(cp.open[0]!.bytes);
    // What a crash leaves behind: a torn gzip member after the committed bytes.
    await fsp.appendFile(openFile, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x42, 0x42, 0x42]));

    // a second instance (the first one "died") resumes from the checkpoint
    const second = await open(r.opts({ clock, commitEvery: 50 }));
    expect((await fsp.stat(openFile)).size).toBe(cp.open[0]!.bytes);
    expect(gunzipSync(await fsp.readFile(openFile)).toString().split('\n')).toHaveLength(cp.open[0]!.lineCount + 1); // valid gzip again
    seqs.push(...(await publishAll(r.journal, frames.slice(400))));
    await second.catchUp();
    expect(second.stats()).toMatchObject({ frames: 200, lastJournalSeq: 600 });
    await second.closeDay('2026-11-29');
    const { files } = await verifyArchive({ blockDir: r.opts().blockDir, env: ENV, feed: 'kraken', published: bySeq(frames, seqs), allClosed: true });
    expect(files).toHaveLength(1); // one hour, well under 64 MiB: the same file continued
  });

  it('records journal gaps (messages expired before archiving) and connection gaps as findings and in the manifest', async () => {
    const feed = 'polymarket';
    const r = await rig('gap', feed, { maxBytes: 16 * 1024, discard: 'old' }, { segmentBytes: 4 * 1024 });
    const start = nsAt('2026-11-29T12:00:00Z');
    const frames = planFrames({ env: ENV, feed, conns: ['pm-0-1-1'], count: 400, recvNs: (i) => start + BigInt(i) * 1_000_000_000n });
    // connection continuity: connSeq 10 is missing, 12 comes again after 13
    const skipped = frames.slice(0, 30).filter((f) => f.connSeq !== 10);
    const late = { ...frames[11]!, recvNs: frames[12]!.recvNs + 1n };
    const firstBatch = [...skipped.slice(0, 12), late, ...skipped.slice(12)];
    const clock = new SimulatedClock({ start: Date.parse('2026-11-29T13:30:00Z') });
    // the repeat has its own message id, as a republish outside the duplicate window would
    const seqs1 = [
      ...(await publishAll(r.journal, firstBatch.slice(0, 12), 1)),
      (await r.journal.publish({ ...toJournalRecord(late), msgId: 'republished-12' })).seq,
      ...(await publishAll(r.journal, firstBatch.slice(13), 1)),
    ];
    const a = await open(r.opts({ clock, commitEvery: 10 }));
    await a.catchUp();
    expect(a.stats().lastJournalSeq).toBe(firstBatch.length);

    // the archiver is "down" while 370 more are published; the stream keeps only ~16 KiB of them
    const rest = frames.slice(30);
    const seqs2 = await publishAll(r.journal, rest, 1);
    const info = await r.journal.info(rawStreamName(ENV, feed));
    expect(info.firstSeq).toBeGreaterThan(firstBatch.length + 1);
    await a.catchUp();
    const m = await a.closeDay('2026-11-29');

    const gapFrom = firstBatch.length + 1;
    const gapTo = info.firstSeq - 1;
    const journalGaps = r.findings.findings.filter((f) => f.kind === 'journal_gap');
    expect(journalGaps).toHaveLength(1);
    expect(journalGaps[0]).toMatchObject({ severity: 'error', detail: { fromJournalSeq: gapFrom, toJournalSeq: gapTo, missing: gapTo - gapFrom + 1, stream: rawStreamName(ENV, feed) } });
    expect(m.gaps).toContainEqual(expect.objectContaining({ kind: 'journal', fromJournalSeq: gapFrom, toJournalSeq: gapTo, missing: gapTo - gapFrom + 1 }));
    expect(r.findings.findings.filter((f) => f.kind === 'connection_gap').map((f) => [f.detail.fromConnSeq, f.detail.toConnSeq])).toEqual([
      [10, 10],
      [31, seqs2.indexOf(info.firstSeq) + 30], // the frames lost with the journal gap, seen from the connection
    ]);
    expect(r.findings.findings.filter((f) => f.kind === 'connection_out_of_order')).toHaveLength(1);
    expect(m.gaps.filter((g) => g.kind === 'connection')).toHaveLength(2);
    expect(a.stats().gaps).toMatchObject({ journal: 1, missingMessages: gapTo - gapFrom + 1, connection: 2 });

    // everything that was still in the journal is archived exactly once
    const published = bySeq([...firstBatch, ...rest], [...seqs1, ...seqs2]);
    for (let s = gapFrom; s <= gapTo; s++) published.delete(s);
    await verifyArchive({ blockDir: r.opts().blockDir, env: ENV, feed, published, allClosed: true });
  });

  it('a frame for a closed day reopens it: late_frame finding, complete=false until closed again', async () => {
    const feed = 'late';
    const r = await rig('late', feed);
    const start = nsAt('2026-11-27T08:00:00Z');
    const frames = planFrames({ env: ENV, feed, conns: CONNS, count: 60, recvNs: (i) => start + BigInt(i) * 60_000_000_000n });
    const seqs = await publishAll(r.journal, frames.slice(0, 50));
    const a = await open(r.opts());
    await a.catchUp(); // real clock: these hours ended long ago, so every file is closed
    expect(a.stats().files.open).toBe(0);
    expect((await a.closeDay('2026-11-27')).complete).toBe(true);
    seqs.push(...(await publishAll(r.journal, frames.slice(50))));
    await a.catchUp();
    expect(r.findings.findings.filter((f) => f.kind === 'late_frame')).toHaveLength(1);
    const [reopened] = await readManifests(r.opts().blockDir, ENV, feed);
    expect(reopened!.complete).toBe(false);
    const again = await a.closeDay('2026-11-27');
    expect(again.complete).toBe(true);
    expect(again.files.length).toBeGreaterThanOrEqual(2);
    await verifyArchive({ blockDir: r.opts().blockDir, env: ENV, feed, published: bySeq(frames, seqs), allClosed: true });
    // closing a day without data still writes a (complete, empty) manifest
    expect(await a.closeDay('2026-11-26')).toMatchObject({ day: '2026-11-26', files: [], gaps: [], complete: true });
  });

  it('run() tails new frames, commits on the interval and closes the hour when the clock passes it', async () => {
    const feed = 'tail';
    const r = await rig('tail', feed);
    const now = Date.now();
    const frames = planFrames({ env: ENV, feed, conns: CONNS, count: 300, recvNs: (i) => BigInt(now) * 1_000_000n - HOUR_NS * 2n + BigInt(i) * 1_000_000n });
    const a = await open(r.opts({ commitIntervalMs: 50, hourGraceMs: 0 }));
    const ctl = new AbortController();
    const running = a.run(ctl.signal);
    const seqs: number[] = [];
    for (const f of frames) seqs.push((await r.journal.publish(toJournalRecord(f))).seq);
    const deadline = Date.now() + 20_000;
    while ((a.stats().committedJournalSeq < 300 || a.stats().files.open > 0 || a.stats().uploads.pending > 0) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    expect(a.stats()).toMatchObject({ committedJournalSeq: 300, files: { open: 0 }, uploads: { pending: 0 } });
    ctl.abort();
    await running;
    await verifyArchive({ blockDir: r.opts().blockDir, env: ENV, feed, published: bySeq(frames, seqs), allClosed: true });
    const files = await readArchiveFiles(r.opts().blockDir, ENV, feed);
    for (const f of files) expect(await r.store.head(f.key)).toMatchObject({ sha256: sha256(f.bytes) });
  });

  it('after a crash between an upload and the manifest update, a new instance verifies the object (HEAD) instead of uploading again', async () => {
    const feed = 'recon';
    const r = await rig('recon', feed);
    const start = nsAt('2026-11-25T05:00:00Z');
    const frames = planFrames({ env: ENV, feed, conns: CONNS, count: 200, recvNs: (i) => start + BigInt(i) * 30_000_000_000n });
    await publishAll(r.journal, frames);
    const a = await open(r.opts({ maxFileBytes: 8_000 }));
    await a.catchUp();
    const m = await a.closeDay('2026-11-25');
    await a.close();
    expect(m.files.every((f) => f.uploaded)).toBe(true);
    // Rewind to "uploaded, but the manifest not yet marked and the day still unsettled".
    const manifestFile = path.join(r.opts().blockDir, 'raw', ENV, feed, '2026-11-25', 'manifest.json');
    const stale = { ...m, files: m.files.map((f, i) => ({ ...f, uploaded: i === 0 })) };
    await fsp.writeFile(manifestFile, `${JSON.stringify(stale, null, 2)}\n`);
    const scope = `${ENV}/${feed}`;
    const cp = parseCheckpoint(scope, (await loadCheckpoint(catalog.db, 'archive', scope))!.position);
    await saveCheckpoint(catalog.db, 'archive', scope, { ...cp, unsettled: ['2026-11-25'] });

    const b = await open(r.opts({ maxFileBytes: 8_000 }));
    const report = await b.flushUploads();
    expect(report).toMatchObject({ uploaded: 1, failed: 0, pending: 0 }); // only the manifest went up again
    const [after] = await readManifests(r.opts().blockDir, ENV, feed);
    expect(after).toEqual(m);
    await b.close();
    const final = parseCheckpoint(scope, (await loadCheckpoint(catalog.db, 'archive', scope))!.position);
    expect(final.unsettled).toEqual([]);
  });

  it('a manifest rewritten while its previous version was uploading is uploaded again', async () => {
    const feed = 'race';
    const r = await rig('race', feed);
    let raced = false;
    // A store whose first manifest upload is overtaken by a commit rewriting the manifest.
    const racing: ObjectStore = {
      kind: 'local',
      putFile: async (key, file) => {
        const info = await r.store.putFile(key, file);
        const m = key.endsWith('/manifest.json') ? (JSON.parse(await fsp.readFile(file, 'utf8')) as Manifest) : undefined;
        // the last upload of the day's manifest (nothing else would rewrite it afterwards)
        if (!raced && m?.complete && m.files.every((f) => f.uploaded)) {
          raced = true;
          m.gaps.push({ kind: 'journal', fromJournalSeq: 1_000_000, toJournalSeq: 1_000_000, missing: 1, afterRecvNs: null, beforeRecvNs: '1' });
          await fsp.writeFile(`${file}.new`, JSON.stringify(m, null, 2));
          await fsp.rename(`${file}.new`, file);
        }
        return info;
      },
      putBytes: (key, body) => r.store.putBytes(key, body),
      head: (key) => r.store.head(key),
      get: (key) => r.store.get(key),
      getToFile: (key, dest) => r.store.getToFile(key, dest),
      list: (prefix) => r.store.list(prefix),
      delete: (key) => r.store.delete(key),
      close: () => r.store.close(),
    };
    const start = nsAt('2026-11-24T05:00:00Z');
    await publishAll(r.journal, planFrames({ env: ENV, feed, conns: CONNS, count: 50, recvNs: (i) => start + BigInt(i) * 1_000_000_000n }));
    const a = await open(r.opts({ store: racing }));
    await a.catchUp();
    await a.closeDay('2026-11-24');
    expect(raced).toBe(true);
    const key = `raw/${ENV}/${feed}/2026-11-24/manifest.json`;
    const local = await fsp.readFile(path.join(r.opts().blockDir, ...key.split('/')));
    expect((await r.store.head(key))?.sha256).toBe(sha256(local));
  });

  it('refuses bad names and tunables, and a second run while running', async () => {
    const r = await rig('cfg', 'cfg');
    await expect(openArchiver(r.opts({ env: '../x' }))).rejects.toThrow(/path segment/);
    await expect(openArchiver(r.opts({ maxFileBytes: 10 }))).rejects.toThrow(/maxFileBytes/);
    const a = await open(r.opts());
    const ctl = new AbortController();
    const running = a.run(ctl.signal);
    await expect(a.catchUp()).rejects.toThrow(/while run is active/);
    await expect(a.close()).rejects.toThrow(/abort it first/);
    ctl.abort();
    await running;
  });
});
