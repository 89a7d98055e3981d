import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeStorageContract } from '../../../test/contracts/storage.contract.js';
import { waitUntil } from '../../../test/harness/process.js';
import { SimulatedClock } from '../../src/middleware/clock.js';
import { IntegrityError } from '../../src/middleware/errors.js';
import type { ObjectInfo, ObjectStore } from '../../src/middleware/storage.js';
import { openObjectStore } from '../../src/middleware/storage/index.js';
import { LocalObjectStore } from '../../src/middleware/storage/local.js';
import { UploadQueue } from '../../src/middleware/storage/upload-queue.js';

let root: string;
beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), 'ssmd-local-store-'));
});
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

describeStorageContract('local', async (prefix) => new LocalObjectStore({ root, prefix }));

describe('LocalObjectStore', () => {
  it('lays objects out under <root>/<prefix> with a hidden sha256 sidecar and no temp files', async () => {
    const store = await openObjectStore({ kind: 'local', root, prefix: 'layout' });
    expect(store.kind).toBe('local');
    const info = await store.putBytes('a/b.txt', Buffer.from('hello'));
    expect(fs.readFileSync(path.join(root, 'layout', 'a', 'b.txt'), 'utf8')).toBe('hello');
    expect(fs.readdirSync(path.join(root, 'layout', 'a')).sort()).toEqual(['.b.txt.sha256', 'b.txt']);
    expect(fs.readFileSync(path.join(root, 'layout', 'a', '.b.txt.sha256'), 'utf8').trim()).toBe(info.sha256);
  });

  it('recomputes a missing sidecar and refuses a corrupted object on download', async () => {
    const store = new LocalObjectStore({ root, prefix: 'corrupt' });
    const info = await store.putBytes('x', Buffer.from('original'));
    const file = path.join(root, 'corrupt', 'x');
    fs.rmSync(path.join(root, 'corrupt', '.x.sha256'));
    expect(await store.head('x')).toEqual(info);
    fs.writeFileSync(file, 'tampered'); // same size, different bytes, sidecar untouched
    const dest = path.join(root, 'dl', 'x');
    await expect(store.getToFile('x', dest)).rejects.toBeInstanceOf(IntegrityError);
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.readdirSync(path.dirname(dest))).toEqual([]);
  });
});

/** A store that fails its first `failures` uploads, then delegates. */
function flaky(inner: ObjectStore, failures: number): ObjectStore & { calls: number } {
  const s = Object.create(inner) as ObjectStore & { calls: number };
  s.calls = 0;
  s.putFile = async (key: string, file: string): Promise<ObjectInfo> => {
    s.calls++;
    if (s.calls <= failures) throw new Error(`store down (call ${s.calls})`);
    return inner.putFile(key, file);
  };
  return s;
}

describe('UploadQueue', () => {
  const files = async (dir: string, n: number): Promise<string[]> => {
    await fsp.mkdir(dir, { recursive: true });
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const f = path.join(dir, `f${i}.bin`);
        await fsp.writeFile(f, `payload ${i}`);
        return f;
      }),
    );
  };

  it('keeps failed jobs pending across a reopen, then uploads them and keeps the local files', async () => {
    const stateDir = path.join(root, 'queue-state-1');
    const srcs = await files(path.join(root, 'queue-src-1'), 3);
    const target = new LocalObjectStore({ root, prefix: 'queue-1' });
    const down = flaky(target, Number.POSITIVE_INFINITY);

    const q1 = await UploadQueue.open({ stateDir, store: down });
    for (const [i, f] of srcs.entries()) await q1.enqueue(`up/${i}`, f);
    const r1 = await q1.drain();
    expect(r1.uploaded).toEqual([]);
    expect(r1.failed).toHaveLength(3);
    expect(q1.pending().map((j) => [j.key, j.attempts])).toEqual([['up/0', 1], ['up/1', 1], ['up/2', 1]]);
    await q1.close();
    fs.appendFileSync(path.join(stateDir, 'uploads.jsonl'), '{"op":"done","id":"torn'); // crash mid-append

    const q2 = await UploadQueue.open({ stateDir, store: target });
    expect(q2.pending().map((j) => j.key)).toEqual(['up/0', 'up/1', 'up/2']);
    expect(q2.pending()[0]?.lastError).toMatch(/store down/);
    const r2 = await q2.drain();
    expect(r2.uploaded.map((o) => o.key)).toEqual(['up/0', 'up/1', 'up/2']);
    expect(q2.pending()).toEqual([]);
    expect((await target.head('up/1'))?.size).toBe('payload 1'.length);
    expect(srcs.every((f) => fs.existsSync(f))).toBe(true);
    await q2.close();

    const q3 = await UploadQueue.open({ stateDir, store: target });
    expect(q3.pending()).toEqual([]);
    expect(fs.readFileSync(path.join(stateDir, 'uploads.jsonl'), 'utf8')).toBe(''); // compacted
    await q3.close();
  });

  it('retries in the background with exponential backoff on the clock', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const [src] = await files(path.join(root, 'queue-src-2'), 1);
    const target = new LocalObjectStore({ root, prefix: 'queue-2' });
    const store = flaky(target, 2);
    const q = await UploadQueue.open({ stateDir: path.join(root, 'queue-state-2'), store, clock, retryBaseMs: 1_000 });
    try {
      q.start();
      await q.enqueue('bg/0', src!);
      const attempted = (attempts: number) => waitUntil(() => q.pending()[0]?.attempts === attempts, { timeoutMs: 5_000, intervalMs: 5 });
      await clock.advanceBy(0);
      await attempted(1);
      expect(q.pending()[0]).toMatchObject({ attempts: 1, nextAttemptAt: 1_000 });
      await clock.advanceBy(999);
      expect(clock.pending).toBe(1); // the retry timer, due at 1 000, has not fired
      expect(store.calls).toBe(1);
      await clock.advanceBy(1);
      await attempted(2);
      expect(q.pending()[0]).toMatchObject({ attempts: 2, nextAttemptAt: 3_000 });
      await clock.advanceBy(2_000);
      await waitUntil(() => q.pending().length === 0, { timeoutMs: 5_000, intervalMs: 5 });
      expect(store.calls).toBe(3);
      expect(await target.head('bg/0')).toMatchObject({ size: 'payload 0'.length });
    } finally {
      await q.close();
    }
  });
});
