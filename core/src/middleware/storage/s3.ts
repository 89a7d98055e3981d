import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { AuthError, NotFoundError } from '../../errors.js';
import { RealClock, type Clock } from '../clock.js';
import { IntegrityError, MiddlewareUnavailableError } from '../errors.js';
import type { ObjectInfo, ObjectStore } from '../storage.js';
import { assertValidKey, assertValidListPrefix, normalizePrefix, sha256File } from './index.js';
import { writeFileAtomic } from '../../fsutil.js';

const MiB = 1024 * 1024;

/** Options of {@link openS3ObjectStore}. */
export interface S3ObjectStoreOptions {
  /** S3-compatible endpoint (SeaweedFS, MinIO); omit for AWS. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Environment name: every object key is `<prefix>/<key>`. */
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Multipart part size and single-PUT limit (default 8 MiB, at least 5 MiB: the S3 minimum part). */
  partBytes?: number;
  /** Attempts per request on network errors, 5xx and throttling before MiddlewareUnavailableError (default 5). */
  maxAttempts?: number;
  /** Clock for retry backoff (default the wall clock). */
  clock?: Clock;
  /** First retry delay; doubles per attempt up to 10 s, with jitter (default 200 ms). */
  retryBaseMs?: number;
  /** Keys per ListObjectsV2 page (default 1000). */
  listPageSize?: number;
}

type S3Error = Error & { Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
const statusOf = (err: unknown): number | undefined => (err as S3Error).$metadata?.httpStatusCode;
const codeOf = (err: unknown): string => (err as S3Error).Code ?? (err as S3Error).code ?? (err as Error).name;
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'TimeoutError']);
const THROTTLED = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'TooManyRequestsException', 'RequestLimitExceeded']);
const AUTH = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied']);

function isRetryable(err: unknown): boolean {
  const status = statusOf(err);
  if (status === undefined) return NETWORK.has(codeOf(err)) || NETWORK.has((err as Error).name);
  return status >= 500 || status === 429 || THROTTLED.has(codeOf(err));
}

const isNotFound = (err: unknown): boolean => statusOf(err) === 404 || codeOf(err) === 'NoSuchKey' || codeOf(err) === 'NotFound';
const md5 = (body: Uint8Array): Buffer => createHash('md5').update(body).digest();
type PartReader = (offset: number, length: number) => Promise<Uint8Array>;
type ObjectMeta = { Bucket: string; Key: string; Metadata: { sha256: string } };

/**
 * Object storage on S3 or an S3-compatible server. Uploads carry the SHA-256 as `x-amz-meta-sha256`
 * and a Content-MD5 per request; after each upload HEAD must show the same size, SHA-256 and the
 * ETag S3 derives from the MD5s (IntegrityError otherwise). Requests are retried with backoff.
 */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #base: string;
  readonly #partBytes: number;
  readonly #maxAttempts: number;
  readonly #clock: Clock;
  readonly #retryBaseMs: number;
  readonly #pageSize: number;

  /** Use {@link openS3ObjectStore}. */
  constructor(client: S3Client, opts: S3ObjectStoreOptions) {
    this.#client = client;
    this.#bucket = opts.bucket;
    this.#base = `${normalizePrefix(opts.prefix)}/`;
    this.#partBytes = opts.partBytes ?? 8 * MiB;
    if (this.#partBytes < 5 * MiB) throw new RangeError(`partBytes must be at least 5 MiB (the S3 minimum part size), got ${this.#partBytes}`);
    this.#maxAttempts = Math.max(1, opts.maxAttempts ?? 5);
    this.#clock = opts.clock ?? new RealClock();
    this.#retryBaseMs = opts.retryBaseMs ?? 200;
    this.#pageSize = opts.listPageSize ?? 1000;
  }

  /** Create the bucket unless it exists (never done implicitly). */
  async ensureBucket(): Promise<void> {
    const Bucket = this.#bucket;
    try {
      await this.#retry(`HeadBucket ${Bucket}`, () => this.#client.send(new HeadBucketCommand({ Bucket })));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.#retry(`CreateBucket ${Bucket}`, () => this.#client.send(new CreateBucketCommand({ Bucket }))).catch((e: unknown) => {
        if (codeOf(e) !== 'BucketAlreadyOwnedByYou') throw e;
      });
    }
  }

  async putFile(key: string, file: string): Promise<ObjectInfo> {
    assertValidKey(key);
    // The SHA-256 goes into the metadata, which S3 takes when the upload starts: hash first,
    // then check the bytes actually sent hash the same (the file must not change meanwhile).
    const { sha256, size } = await sha256File(file);
    const fh = await fsp.open(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(Math.min(size, this.#partBytes)); // the only part buffer
      return await this.#upload(key, size, sha256, async (offset, length) => {
        for (let got = 0; got < length; ) {
          const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
          if (bytesRead === 0) throw new IntegrityError(`${file} shrank while uploading it to ${key}`);
          got += bytesRead;
        }
        return buf.subarray(0, length);
      });
    } finally {
      await fh.close();
    }
  }

  async putBytes(key: string, body: Uint8Array): Promise<ObjectInfo> {
    assertValidKey(key);
    const sha256 = createHash('sha256').update(body).digest('hex');
    return this.#upload(key, body.length, sha256, async (offset, length) => body.subarray(offset, offset + length));
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    return (await this.#head(key))?.info;
  }

  async get(key: string): Promise<Readable> {
    assertValidKey(key);
    try {
      const res = await this.#retry(`GetObject ${key}`, () => this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#base + key })));
      return res.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new NotFoundError(`object ${key} not found in s3://${this.#bucket}/${this.#base}`, { cause: err });
      throw err;
    }
  }

  async getToFile(key: string, dest: string): Promise<ObjectInfo> {
    assertValidKey(key);
    const body = await this.#retry(`download ${key}`, async () => {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#base + key }));
      const sha256 = res.Metadata?.sha256;
      return writeFileAtomic(dest, res.Body as Readable, (got) => {
        if ((sha256 !== undefined && got.sha256 !== sha256) || (res.ContentLength !== undefined && got.size !== res.ContentLength)) {
          throw new IntegrityError(`object ${key}: downloaded ${got.size} bytes sha256 ${got.sha256}, stored ${res.ContentLength} bytes sha256 ${sha256}`);
        }
      });
    }).catch((err: unknown) => {
      if (isNotFound(err)) throw new NotFoundError(`object ${key} not found in s3://${this.#bucket}/${this.#base}`, { cause: err });
      throw err;
    });
    return { key, ...body };
  }

  /**
   * Walks one "directory" (Delimiter `/`) at a time: servers disagree on where `a/b` falls against
   * `a-c` (AWS: byte order; SeaweedFS: `a/` first), so each level is listed whole (all pages),
   * sorted by bytes with sub-prefixes as `name/`, then visited. Listings carry no metadata, so
   * each key also costs a HEAD (for its SHA-256), 8 at a time.
   */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidListPrefix(prefix);
    yield* this.#walk(this.#base + prefix);
  }

  async *#walk(prefix: string): AsyncGenerator<ObjectInfo> {
    const names: string[] = []; // full keys, and sub-prefixes ending in '/'
    let token: string | undefined;
    do {
      const page = await this.#retry('ListObjectsV2', () =>
        this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, Delimiter: '/', MaxKeys: this.#pageSize, ContinuationToken: token })),
      );
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix !== undefined) names.push(p.Prefix);
      for (const o of page.Contents ?? []) if (o.Key !== undefined && !o.Key.endsWith('/')) names.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    let batch: string[] = [];
    const flush = async (): Promise<ObjectInfo[]> => {
      const heads = await Promise.all(batch.map((k) => this.#head(k.slice(this.#base.length))));
      batch = [];
      return heads.flatMap((h) => (h === undefined ? [] : [h.info]));
    };
    for (const name of names) {
      if (name.endsWith('/')) {
        yield* await flush();
        yield* this.#walk(name);
      } else if (batch.push(name) === 8) yield* await flush();
    }
    yield* await flush();
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await this.#retry(`DeleteObject ${key}`, () => this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#base + key })));
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  // Upload `size` bytes read part by part (one PUT when it fits in a part), then verify.
  async #upload(key: string, size: number, sha256: string, read: PartReader): Promise<ObjectInfo> {
    const hash = createHash('sha256');
    const hashed: PartReader = async (offset, length) => {
      const body = await read(offset, length);
      hash.update(body);
      return body;
    };
    const meta = { Bucket: this.#bucket, Key: this.#base + key, Metadata: { sha256 } };
    const parts = Math.max(1, Math.ceil(size / this.#partBytes));
    const checkSent = (): void => {
      const got = hash.digest('hex');
      if (got !== sha256) throw new IntegrityError(`${key}: the bytes sent hash to ${got}, expected ${sha256} (source changed during upload?)`);
    };
    const etag = parts === 1 ? await this.#putOne(key, meta, size, hashed, checkSent) : await this.#putParts(key, meta, size, parts, hashed, checkSent);
    const stored = await this.#head(key);
    if (stored === undefined) throw new IntegrityError(`${key}: missing right after upload`);
    const { info } = stored;
    if (info.size !== size || info.sha256 !== sha256 || stored.etag !== etag) {
      throw new IntegrityError(`${key}: stored size ${info.size} sha256 ${info.sha256} etag ${stored.etag}, uploaded size ${size} sha256 ${sha256} etag ${etag}`);
    }
    return { key, size, sha256 };
  }

  // One PutObject; returns the expected ETag (the body's MD5).
  async #putOne(key: string, meta: ObjectMeta, size: number, read: PartReader, checkSent: () => void): Promise<string> {
    const body = await read(0, size);
    checkSent();
    const digest = md5(body);
    await this.#retry(`PutObject ${key}`, () =>
      this.#client.send(new PutObjectCommand({ ...meta, Body: body, ContentLength: size, ContentMD5: digest.toString('base64') })),
    );
    return digest.toString('hex');
  }

  // Multipart, one part in memory at a time, aborted on failure; returns the expected ETag:
  // MD5 of the concatenated binary part MD5s, then `-<parts>`.
  async #putParts(key: string, meta: ObjectMeta, size: number, parts: number, read: PartReader, checkSent: () => void): Promise<string> {
    const { Bucket, Key } = meta;
    const { UploadId } = await this.#retry(`CreateMultipartUpload ${key}`, () => this.#client.send(new CreateMultipartUploadCommand(meta)));
    const digests: Buffer[] = [];
    try {
      const done: { ETag: string | undefined; PartNumber: number }[] = [];
      for (let PartNumber = 1; PartNumber <= parts; PartNumber++) {
        const offset = (PartNumber - 1) * this.#partBytes;
        const body = await read(offset, Math.min(this.#partBytes, size - offset));
        const digest = md5(body);
        digests.push(digest);
        const res = await this.#retry(`UploadPart ${PartNumber}/${parts} of ${key}`, () =>
          this.#client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: body, ContentLength: body.length, ContentMD5: digest.toString('base64') })),
        );
        done.push({ ETag: res.ETag, PartNumber });
      }
      checkSent();
      await this.#retry(`CompleteMultipartUpload ${key}`, () =>
        this.#client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } })),
      ).catch((err: unknown) => {
        if (codeOf(err) !== 'NoSuchUpload') throw err; // completed by an attempt whose reply was lost: verification decides
      });
    } catch (err) {
      await this.#client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
      throw err;
    }
    return `${md5(Buffer.concat(digests)).toString('hex')}-${parts}`;
  }

  async #head(key: string): Promise<{ info: ObjectInfo; etag: string } | undefined> {
    try {
      const res = await this.#retry(`HeadObject ${key}`, () => this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#base + key })));
      // sha256 is '' for an object not uploaded by ssmd (no metadata)
      return { info: { key, size: res.ContentLength ?? 0, sha256: res.Metadata?.sha256 ?? '' }, etag: (res.ETag ?? '').replaceAll('"', '') };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  // Run `op`, retrying network errors, 5xx and throttling with exponential backoff and jitter on the clock.
  async #retry<T>(what: string, op: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        const status = statusOf(err);
        if (status === 401 || status === 403 || AUTH.has(codeOf(err))) {
          throw new AuthError(`s3 refused ${what} on bucket ${this.#bucket}: ${codeOf(err)} (check the credentials)`, { cause: err });
        }
        if (!isRetryable(err)) throw err;
        if (attempt >= this.#maxAttempts) {
          throw new MiddlewareUnavailableError('s3', `${what} failed after ${attempt} attempts: ${codeOf(err)} ${(err as Error).message}`, { cause: err });
        }
        const cap = Math.min(10_000, this.#retryBaseMs * 2 ** (attempt - 1));
        await this.#clock.sleep(cap / 2 + (Math.random() * cap) / 2);
      }
    }
  }
}

/** Open an S3 object store; does not contact the server (see {@link S3ObjectStore.ensureBucket}). */
export async function openS3ObjectStore(opts: S3ObjectStoreOptions): Promise<S3ObjectStore> {
  const client = new S3Client({
    endpoint: opts.endpoint,
    region: opts.region,
    credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
    forcePathStyle: true,
    // Only checksums S3 demands: the defaults frame bodies as aws-chunked, which S3-compatible
    // servers mishandle (deps-notes §6). Integrity comes from Content-MD5 and the checks above.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1, // retries are ours, on the injected clock
    requestHandler: { connectionTimeout: 5_000, socketTimeout: 60_000 },
  });
  return new S3ObjectStore(client, opts);
}
