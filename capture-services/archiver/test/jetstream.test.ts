/**
 * The archiver on the production journal: NATS JetStream (a real nats-server), including a server
 * crash and restart while the archiver tails the stream.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import { MemoryFindingSink } from '../../../core/src/middleware/findings.js';
import { openJetStreamJournal, type JetStreamJournal } from '../../../core/src/middleware/journal/jetstream.js';
import { LocalObjectStore } from '../../../core/src/middleware/storage/local.js';
import { startNats, type NatsServer } from '../../../test/harness/nats.js';
import { waitUntil } from '../../../test/harness/process.js';
import { toJournalRecord, type RawFrame } from '../../raw/src/frame.js';
import { openArchiver } from '../src/index.js';
import { bySeq, nsAt, planFrames, publishAll, rawSpec, tempDir, verifyArchive } from './helpers.js';

const ENV = 'lab';
const FEED = 'kraken';

let nats: NatsServer;
let journal: JetStreamJournal;
let catalog: Catalog;
let dir: string;

beforeAll(async () => {
  nats = await startNats();
  journal = await openJetStreamJournal({ servers: nats.url, publishTimeoutMs: 2_000 });
  await journal.ensureStreams([rawSpec(ENV, FEED)]);
  catalog = await openCatalog('pglite:memory');
  dir = await tempDir('js');
});

afterAll(async () => {
  await journal?.close();
  await nats?.stop();
  await catalog?.close();
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

/** Publish with retries, as a connector does while the server is away (the msgId makes a retry safe). */
async function publishRetrying(frames: readonly RawFrame[]): Promise<number[]> {
  const seqs: number[] = [];
  for (const f of frames) {
    for (let attempt = 0; ; attempt++) {
      try {
        seqs.push((await journal.publish(toJournalRecord(f))).seq);
        break;
      } catch (err) {
        if (attempt > 200) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
  return seqs;
}

describe('archiver on JetStream', () => {
  it('tails the stream across a nats-server crash and restart, archiving every frame exactly once', async () => {
    const start = nsAt('2026-11-29T23:40:00Z');
    const frames = planFrames({ env: ENV, feed: FEED, conns: ['kr-0-1-1', 'kr-1-1-1'], count: 1100, recvNs: (i) => start + BigInt(i) * 2_000_000_000n });
    const seqs = await publishAll(journal, frames.slice(0, 500), 100);
    const a = await openArchiver({
      env: ENV, feed: FEED, journal, blockDir: path.join(dir, 'block'), store: new LocalObjectStore({ root: path.join(dir, 'objects'), prefix: ENV }),
      uploadStateDir: path.join(dir, 'uploads'), db: catalog.db, findings: new MemoryFindingSink(), commitIntervalMs: 100, maxFileBytes: 32 * 1024,
      consumerStallMs: 2_000,
    });
    const ctl = new AbortController();
    const running = a.run(ctl.signal);
    await waitUntil(() => a.stats().committedJournalSeq === 500, { timeoutMs: 20_000, description: 'first 500 archived' });

    await nats.kill();
    await nats.restart();
    seqs.push(...(await publishRetrying(frames.slice(500, 1000))));
    // (an ordered consumer can wedge after the restart; run() restarts it after consumerStallMs)
    await waitUntil(() => a.stats().committedJournalSeq === 1000, { timeoutMs: 30_000, description: 'all 1000 archived after the restart' });
    ctl.abort();
    await running;
    console.log(`jetstream: consumer restarts after the server restart: ${a.stats().consumerRestarts}`);

    // catchUp on JetStream: a bounded replay to the end, then return
    seqs.push(...(await publishAll(journal, frames.slice(1000), 100)));
    await a.catchUp();
    expect(a.stats()).toMatchObject({ lastJournalSeq: 1100, lag: 0, gaps: { journal: 0, connection: 0 } });
    for (const day of ['2026-11-29', '2026-11-30']) expect((await a.closeDay(day)).complete).toBe(true);
    await a.close();
    expect(seqs).toEqual(Array.from({ length: 1100 }, (_, i) => i + 1));
    const { manifests } = await verifyArchive({ blockDir: path.join(dir, 'block'), env: ENV, feed: FEED, published: bySeq(frames, seqs), allClosed: true });
    expect(manifests.map((m) => m.day)).toEqual(['2026-11-29', '2026-11-30']);
    expect(manifests.every((m) => m.files.every((f) => f.uploaded))).toBe(true);
  }, 120_000);
});
