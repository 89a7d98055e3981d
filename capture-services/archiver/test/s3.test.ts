/**
 * The archiver against a real S3-compatible store (SeaweedFS): verified uploads, and an outage of
 * the store that loses nothing (files and manifests stay on block storage, uploads wait in the
 * outbox and go up once a store is reachable).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import { MemoryFindingSink } from '../../../core/src/middleware/findings.js';
import { openLocalJournal, type LocalJournal } from '../../../core/src/middleware/journal/local.js';
import { openS3ObjectStore, type S3ObjectStore } from '../../../core/src/middleware/storage/s3.js';
import { startSeaweed, type SeaweedServer } from '../../../test/harness/seaweedfs.js';
import { openArchiver } from '../src/index.js';
import type { Manifest } from '../src/manifest.js';
import { bySeq, nsAt, planFrames, publishAll, rawSpec, readManifests, sha256, tempDir, verifyArchive } from './helpers.js';

const ENV = 'lab';
const BUCKET = 'ssmd-archive';

let seaweed: SeaweedServer;
let catalog: Catalog;
let dir: string;
let journal: LocalJournal;
const stores: S3ObjectStore[] = [];

async function s3Store(srv: { endpoint: string; accessKeyId: string; secretAccessKey: string }, maxAttempts = 5): Promise<S3ObjectStore> {
  const store = await openS3ObjectStore({
    endpoint: srv.endpoint, region: 'us-east-1', bucket: BUCKET, prefix: ENV, accessKeyId: srv.accessKeyId, secretAccessKey: srv.secretAccessKey, maxAttempts, retryBaseMs: 50,
  });
  stores.push(store);
  return store;
}

beforeAll(async () => {
  seaweed = await startSeaweed();
  catalog = await openCatalog('pglite:memory');
  dir = await tempDir('s3');
  journal = await openLocalJournal({ dir: path.join(dir, 'journal'), fsyncIntervalMs: 1 });
  const store = await s3Store(seaweed);
  await store.ensureBucket();
});

afterAll(async () => {
  for (const s of stores) await s.close();
  await journal?.close();
  await catalog?.close();
  await seaweed?.stop();
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

async function readObject(store: S3ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get(key)) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Every file of every manifest is in the store with the manifest's size and sha256, and so is the manifest. */
async function expectUploaded(store: S3ObjectStore, feed: string, manifests: Manifest[]): Promise<void> {
  for (const m of manifests) {
    for (const e of m.files) {
      expect(e.uploaded).toBe(true);
      const key = `raw/${ENV}/${feed}/${m.day}/${e.name}`;
      expect(await store.head(key)).toEqual({ key, size: e.bytes, sha256: e.sha256 });
    }
    expect(JSON.parse((await readObject(store, `raw/${ENV}/${feed}/${m.day}/manifest.json`)).toString('utf8'))).toEqual(m);
  }
}

describe('archiver with S3 (SeaweedFS)', () => {
  it('uploads closed files and manifests to S3 under raw/<env>/<feed>/<day>/, verified by sha256', async () => {
    const feed = 'kalshi';
    await journal.ensureStreams([rawSpec(ENV, feed)]);
    const start = nsAt('2026-11-28T22:30:00Z');
    const frames = planFrames({ env: ENV, feed, conns: ['k-0-1-1', 'k-1-1-1'], count: 800, recvNs: (i) => start + BigInt(i) * 9_000_000_000n });
    const seqs = await publishAll(journal, frames);
    const store = await s3Store(seaweed);
    const a = await openArchiver({ env: ENV, feed, journal, blockDir: path.join(dir, 'block'), store, uploadStateDir: path.join(dir, 'up-kalshi'), db: catalog.db, findings: new MemoryFindingSink(), maxFileBytes: 64 * 1024 });
    await a.catchUp();
    const m28 = await a.closeDay('2026-11-28');
    const m29 = await a.closeDay('2026-11-29');
    expect(a.stats().uploads.pending).toBe(0);
    await a.close();
    const { files } = await verifyArchive({ blockDir: path.join(dir, 'block'), env: ENV, feed, published: bySeq(frames, seqs), allClosed: true });
    await expectUploaded(store, feed, [m28, m29]);
    // the listing holds exactly the files and the two manifests
    const keys: string[] = [];
    for await (const o of store.list(`raw/${ENV}/${feed}/`)) keys.push(o.key);
    expect(keys.sort()).toEqual([...files.map((f) => f.key), `raw/${ENV}/${feed}/2026-11-28/manifest.json`, `raw/${ENV}/${feed}/2026-11-29/manifest.json`].sort());
    // and a download is byte-identical to the file on block storage
    const f = files[0]!;
    const dest = path.join(dir, 'download', f.name);
    await store.getToFile(f.key, dest);
    expect(sha256(await fsp.readFile(dest))).toBe(sha256(f.bytes));
  });

  it('with the store down, files and manifests stay on block storage and uploads wait; pointed at a live store, they all go up', async () => {
    const feed = 'kraken';
    await journal.ensureStreams([rawSpec(ENV, feed)]);
    // a store whose server is stopped
    const gone = await startSeaweed();
    const goneStore = await s3Store(gone, 1);
    await goneStore.ensureBucket();
    await gone.stop();

    const start = nsAt('2026-11-27T10:00:00Z');
    const frames = planFrames({ env: ENV, feed, conns: ['kr-0-1-1'], count: 400, recvNs: (i) => start + BigInt(i) * 20_000_000_000n });
    const seqs = await publishAll(journal, frames);
    const common = { env: ENV, feed, journal, blockDir: path.join(dir, 'block'), uploadStateDir: path.join(dir, 'up-kraken'), db: catalog.db, findings: new MemoryFindingSink(), maxFileBytes: 16 * 1024 };
    const down = await openArchiver({ ...common, store: goneStore });
    await down.catchUp();
    const m = await down.closeDay('2026-11-27');
    expect(m.complete).toBe(true);
    expect(m.files.length).toBeGreaterThan(2);
    expect(m.files.every((f) => !f.uploaded)).toBe(true);
    const stats = down.stats();
    expect(stats.uploads.pending).toBe(m.files.length + 1); // every file and the manifest
    expect(stats.uploads.lastError).toMatch(/ECONNREFUSED|failed after 1 attempts/);
    await down.close();
    // nothing is lost: the archive on block storage is whole
    await verifyArchive({ blockDir: common.blockDir, env: ENV, feed, published: bySeq(frames, seqs), allClosed: true });

    // a new archiver, pointed at a store that is up, drains the outbox
    const store = await s3Store(seaweed);
    const up = await openArchiver({ ...common, store });
    const report = await up.flushUploads();
    expect(report).toMatchObject({ pending: 0, failed: 0 });
    expect(report.uploaded).toBeGreaterThanOrEqual(m.files.length + 1);
    const [after] = await readManifests(common.blockDir, ENV, feed);
    expect(after!.files.every((f) => f.uploaded)).toBe(true);
    expect(after!.files.map((f) => f.sha256)).toEqual(m.files.map((f) => f.sha256));
    await expectUploaded(store, feed, [after!]);
    await up.close();
  });
});
