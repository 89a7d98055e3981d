import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { SsmdError } from '../../errors.js';
import type { ObjectStore } from '../storage.js';
import type { LocalObjectStoreOptions } from './local.js';
import type { S3ObjectStoreOptions } from './s3.js';

/** Which store to open; the implementation is imported on demand, so `local` never loads the AWS SDK. */
export type ObjectStoreConfig = ({ kind: 'local' } & LocalObjectStoreOptions) | ({ kind: 's3' } & S3ObjectStoreOptions);

/** Open the object store named by `config.kind`. */
export async function openObjectStore(config: ObjectStoreConfig): Promise<ObjectStore> {
  switch (config.kind) {
    case 'local': {
      const { LocalObjectStore } = await import('./local.js');
      return new LocalObjectStore(config);
    }
    case 's3': {
      const { openS3ObjectStore } = await import('./s3.js');
      return openS3ObjectStore(config);
    }
  }
}

/** An object key (or environment prefix) that no store accepts. */
export class InvalidKeyError extends SsmdError {
  constructor(readonly key: string, reason: string) {
    super(`invalid object key ${JSON.stringify(key)}: ${reason}`, { code: 'INVALID_KEY' });
  }
}

/**
 * Throws InvalidKeyError unless `key` is a relative `/`-separated path of at most 1024 UTF-8 bytes,
 * without backslashes or control characters, whose segments are non-empty and do not start with `.`
 * (which excludes `.` and `..` and leaves dot names to the local store's temp files and sidecars).
 * Both stores apply the same rule, so a key valid on one is valid on the other.
 */
export function assertValidKey(key: string): void {
  const bad = (reason: string): never => {
    throw new InvalidKeyError(key, reason);
  };
  if (typeof key !== 'string' || key === '') bad('empty');
  if (Buffer.byteLength(key) > 1024) bad('longer than 1024 bytes');
  if (key.startsWith('/')) bad('absolute (starts with /)');
  if (key.includes('\\')) bad('contains a backslash');
  if (/[\u0000-\u001f\u007f]/.test(key)) bad('contains a control character');
  for (const segment of key.split('/')) {
    if (segment === '') bad('has an empty path segment');
    if (segment.startsWith('.')) bad('has a segment starting with "." (such as "..")');
  }
}

/** Validate an environment prefix and return it without a trailing `/`. */
export function normalizePrefix(prefix: string): string {
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  assertValidKey(p);
  return p;
}

/** Validate a `list` prefix: '' or a key, possibly ending in `/`. */
export function assertValidListPrefix(prefix: string): void {
  if (prefix !== '') assertValidKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

/** Hex SHA-256 and size of a file, read as a stream. */
export async function sha256File(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}


