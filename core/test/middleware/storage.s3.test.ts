import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeStorageContract } from '../../../test/contracts/storage.contract.js';
import { getFreePort, LOOPBACK } from '../../../test/harness/ports.js';
import { waitUntil } from '../../../test/harness/process.js';
import { startSeaweed, type SeaweedServer } from '../../../test/harness/seaweedfs.js';
import { AuthError } from '../../src/errors.js';
import { SimulatedClock } from '../../src/middleware/clock.js';
import { IntegrityError, MiddlewareUnavailableError } from '../../src/middleware/errors.js';
import { openObjectStore } from '../../src/middleware/storage/index.js';
import { openS3ObjectStore, S3ObjectStore, type S3ObjectStoreOptions } from '../../src/middleware/storage/s3.js';
import { UploadQueue } from '../../src/middleware/storage/upload-queue.js';

const MiB = 1024 * 1024;
const BUCKET = 'ssmd-test';
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const md5 = (b: Uint8Array): Buffer => createHash('md5').update(b).digest();

let server: SeaweedServer;
let tmp: string;
const conn = (srv: SeaweedServer, prefix: string): S3ObjectStoreOptions => ({
  endpoint: srv.endpoint,
  region: srv.region,
  accessKeyId: srv.accessKeyId,
  secretAccessKey: srv.secretAccessKey,
  bucket: BUCKET,
  prefix,
  partBytes: 5 * MiB,
  listPageSize: 7,
});
/** An SDK client configured like the store's, for looking behind its back. */
const rawClient = (srv: SeaweedServer): S3Client =>
  new S3Client({
    endpoint: srv.endpoint,
    region: srv.region,
    forcePathStyle: true,
    credentials: { accessKeyId: srv.accessKeyId, secretAccessKey: srv.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });

beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'ssmd-s3-test-'));
  server = await startSeaweed();
  const store = await openS3ObjectStore(conn(server, 'setup'));
  await store.ensureBucket();
  await store.ensureBucket(); // idempotent
  await store.close();
});
afterAll(async () => {
  await server?.stop();
  if (tmp !== undefined) await fsp.rm(tmp, { recursive: true, force: true });
});

describeStorageContract('s3', (prefix) => openS3ObjectStore(conn(server, prefix)));

describe('S3ObjectStore', () => {
  it('is what openObjectStore({ kind: "s3" }) returns; keys sit under <prefix>/ with the ETag S3 derives from MD5s', async () => {
    const store = await openObjectStore({ kind: 's3', ...conn(server, 'etag') });
    expect(store.kind).toBe('s3');
    const raw = rawClient(server);
    try {
      const small = randomBytes(1000);
      await store.putBytes('one', small);
      const head1 = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'etag/one' }));
      expect(head1.ETag).toBe(`"${md5(small).toString('hex')}"`);
      expect(head1.Metadata).toEqual({ sha256: sha256(small) });

      const big = randomBytes(11 * MiB); // 5 + 5 + 1 MiB
      await store.putBytes('three-parts', big);
      const parts = [0, 1, 2].map((i) => md5(big.subarray(i * 5 * MiB, (i + 1) * 5 * MiB)));
      const head3 = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'etag/three-parts' }));
      expect(head3.ETag).toBe(`"${md5(Buffer.concat(parts)).toString('hex')}-3"`);
      expect(head3.ContentLength).toBe(11 * MiB);
    } finally {
      raw.destroy();
      await store.close();
    }
  });

  it('refuses wrong credentials with AuthError, without retrying', async () => {
    const store = await openS3ObjectStore({ ...conn(server, 'auth'), secretAccessKey: 'wrong-secret', retryBaseMs: 5_000 });
    const t = Date.now();
    await expect(store.putBytes('k', Buffer.from('x'))).rejects.toBeInstanceOf(AuthError);
    await expect(store.head('k')).rejects.toBeInstanceOf(AuthError);
    const unknown = await openS3ObjectStore({ ...conn(server, 'auth'), accessKeyId: 'AKUNKNOWN' });
    await expect(unknown.putBytes('k', Buffer.from('x'))).rejects.toThrow(/InvalidAccessKeyId/);
    expect(Date.now() - t).toBeLessThan(5_000);
    await Promise.all([store.close(), unknown.close()]);
  });

  it('refuses a download whose bytes do not match the sha256 metadata', async () => {
    const raw = rawClient(server);
    const store = await openS3ObjectStore(conn(server, 'tamper'));
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tamper/x', Body: Buffer.from('actual'), Metadata: { sha256: sha256(Buffer.from('claimed')) } }));
    const dest = path.join(tmp, 'tamper', 'x');
    await expect(store.getToFile('x', dest)).rejects.toBeInstanceOf(IntegrityError);
    expect(fs.existsSync(dest)).toBe(false);
    raw.destroy();
    await store.close();
  });

  it('retries 5xx responses and aborts a multipart upload whose part keeps failing', async () => {
    const client = rawClient(server);
    const calls: string[] = [];
    let failPart: number | undefined;
    let failPuts = 2;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { PartNumber?: number };
        calls.push(context.commandName ?? '');
        const fail =
          (context.commandName === 'PutObjectCommand' && failPuts-- > 0) ||
          (context.commandName === 'UploadPartCommand' && input.PartNumber === failPart);
        if (fail) throw Object.assign(new Error('injected'), { name: 'InternalError', $metadata: { httpStatusCode: 503 } });
        return next(args);
      },
      { step: 'initialize', name: 'inject-faults' },
    );
    const store = new S3ObjectStore(client, { ...conn(server, 'faults'), maxAttempts: 3, retryBaseMs: 1 });

    expect(await store.putBytes('retried', Buffer.from('ok'))).toMatchObject({ size: 2 });
    expect(calls.filter((c) => c === 'PutObjectCommand')).toHaveLength(3);

    failPart = 2;
    const err = await store.putBytes('aborted', randomBytes(11 * MiB)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MiddlewareUnavailableError);
    expect(String(err)).toMatch(/UploadPart 2\/3 .* after 3 attempts/);
    expect(calls).toContain('AbortMultipartUploadCommand');
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'faults/' }));
    expect(uploads.Uploads ?? []).toEqual([]);
    expect(await store.head('aborted')).toBeUndefined();
    await store.close();
  });

  it('backs off exponentially on its clock and gives up after maxAttempts', async () => {
    const clock = new SimulatedClock({ start: 0 });
    const deadPort = await getFreePort();
    const store = await openS3ObjectStore({
      ...conn(server, 'dead'),
      endpoint: `http://${LOOPBACK}:${deadPort}`,
      maxAttempts: 4,
      retryBaseMs: 1_000,
      clock,
    });
    let outcome: unknown;
    const p = store.putBytes('k', Buffer.from('x')).then(
      () => (outcome = 'resolved'),
      (e: unknown) => (outcome = e),
    );
    const sleptAt: number[] = [];
    while (outcome === undefined) {
      await waitUntil(() => outcome !== undefined || clock.pending > 0, { timeoutMs: 10_000, intervalMs: 2 });
      if (outcome !== undefined) break;
      sleptAt.push(clock.now());
      while (clock.pending > 0) await clock.advanceBy(10);
    }
    await p;
    expect(outcome).toBeInstanceOf(MiddlewareUnavailableError);
    expect(String(outcome)).toMatch(/after 4 attempts: ECONNREFUSED/);
    // three sleeps of [cap/2, cap] for caps 1 s, 2 s, 4 s
    const waits = sleptAt.slice(1).map((t, i) => t - sleptAt[i]!);
    expect(sleptAt).toHaveLength(3);
    expect(waits[0]).toBeGreaterThanOrEqual(500);
    expect(waits[0]).toBeLessThanOrEqual(1_010);
    expect(waits[1]).toBeGreaterThanOrEqual(1_000);
    expect(waits[1]).toBeLessThanOrEqual(2_010);
    await store.close();
  });
});

describe('UploadQueue while S3 is down (fault)', () => {
  it('keeps uploads pending while SeaweedFS is stopped, survives a reopen, and delivers all to a fresh server', async () => {
    const src = path.join(tmp, 'outbox-src');
    await fsp.mkdir(src, { recursive: true });
    const bodies = [randomBytes(100), randomBytes(6 * MiB + 7), Buffer.from('€ last')];
    const files = bodies.map((b, i) => {
      const f = path.join(src, `part-${i}.bin`);
      fs.writeFileSync(f, b);
      return f;
    });
    const stateDir = path.join(tmp, 'outbox-state');

    const first = await startSeaweed();
    const downStore = await openS3ObjectStore({ ...conn(first, 'prod'), maxAttempts: 2, retryBaseMs: 10 });
    await downStore.ensureBucket();
    await downStore.putBytes('warmup', Buffer.from('up'));
    await first.stop();

    const q1 = await UploadQueue.open({ stateDir, store: downStore });
    for (const [i, f] of files.entries()) await q1.enqueue(`day/${i}.bin`, f);
    const r1 = await q1.drain();
    expect(r1.uploaded).toEqual([]);
    expect(r1.failed.map((f) => f.error)).toEqual(bodies.map(() => expect.any(MiddlewareUnavailableError)));
    expect(q1.pending()).toHaveLength(3);
    await q1.close();
    await downStore.close();

    const second = await startSeaweed();
    try {
      const store = await openS3ObjectStore(conn(second, 'prod'));
      await store.ensureBucket();
      const q2 = await UploadQueue.open({ stateDir, store });
      expect(q2.pending().map((j) => [j.key, j.attempts])).toEqual([['day/0.bin', 1], ['day/1.bin', 1], ['day/2.bin', 1]]);
      const r2 = await q2.drain();
      expect(r2.failed).toEqual([]);
      expect(q2.pending()).toEqual([]);
      for (const [i, b] of bodies.entries()) {
        expect(await store.head(`day/${i}.bin`)).toEqual({ key: `day/${i}.bin`, size: b.length, sha256: sha256(b) });
      }
      expect(files.every((f) => fs.existsSync(f))).toBe(true);
      await q2.close();
      await store.close();
    } finally {
      await second.stop();
    }
  });
});
