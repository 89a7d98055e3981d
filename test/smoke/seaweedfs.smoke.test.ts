import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CompletedPart } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSeaweed, type SeaweedServer } from '../harness/seaweedfs.js';

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function s3For(server: SeaweedServer, creds?: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: creds ?? { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    maxAttempts: 1,
  });
}

describe('seaweedfs (S3) smoke', () => {
  let server: SeaweedServer;
  let s3: S3Client;
  const bucket = 'ssmd-smoke';

  beforeAll(async () => {
    server = await startSeaweed();
    s3 = s3For(server);
  }, 90_000);

  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('creates a bucket, puts, gets and lists objects', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const buckets = await s3.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((b) => b.Name)).toContain(bucket);

    const body = `{"symbol":"AAPL","price":189.25,"nonce":"${randomBytes(8).toString('hex')}"}`;
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'raw/2026/ticks.json', Body: body, ContentType: 'application/json' }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'raw/2026/other.txt', Body: 'x' }));

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'raw/2026/ticks.json' }));
    expect(got.ContentType).toBe('application/json');
    expect(await got.Body?.transformToString()).toBe(body);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'raw/' }));
    expect(listed.KeyCount).toBe(2);
    expect(listed.Contents?.map((o) => o.Key).sort()).toEqual(['raw/2026/other.txt', 'raw/2026/ticks.json']);
    expect(listed.Contents?.find((o) => o.Key === 'raw/2026/ticks.json')?.Size).toBe(Buffer.byteLength(body));
  });

  it('multipart upload (3 x 5 MiB + remainder) round-trips byte-exact', async () => {
    const key = 'multipart/blob.bin';
    const data = randomBytes(15 * MiB + 123_457);
    const parts = [0, 1, 2, 3].map((i) => data.subarray(i * 5 * MiB, Math.min((i + 1) * 5 * MiB, data.length)));
    expect(parts.map((p) => p.length)).toEqual([5 * MiB, 5 * MiB, 5 * MiB, 123_457]);

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    expect(UploadId).toBeTruthy();
    const completed: CompletedPart[] = [];
    for (const [i, part] of parts.entries()) {
      const res = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: part }),
      );
      expect(res.ETag).toBeTruthy();
      completed.push({ ETag: res.ETag, PartNumber: i + 1 });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: completed } }),
    );

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ContentLength).toBe(data.length);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const downloaded = await got.Body!.transformToByteArray();
    expect(downloaded.length).toBe(data.length);
    expect(sha256(downloaded)).toBe(sha256(data));
  });

  it('refuses a client with wrong credentials', async () => {
    const wrongSecret = s3For(server, { accessKeyId: server.accessKeyId, secretAccessKey: 'not-the-secret' });
    const unknownKey = s3For(server, { accessKeyId: 'AKUNKNOWN0000000', secretAccessKey: server.secretAccessKey });
    try {
      await expect(wrongSecret.send(new ListBucketsCommand({}))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 403 },
      });
      await expect(unknownKey.send(new GetObjectCommand({ Bucket: bucket, Key: 'raw/2026/other.txt' }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 403 },
      });
      await expect(
        unknownKey.send(new PutObjectCommand({ Bucket: bucket, Key: 'evil.txt', Body: 'nope' })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    } finally {
      wrongSecret.destroy();
      unknownKey.destroy();
    }
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'evil' }));
    expect(listed.KeyCount ?? 0).toBe(0);
  });
});
