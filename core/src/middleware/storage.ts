import type { Readable } from 'node:stream';

/**
 * Object storage (M4, M12): S3 or a local directory. Every object key is under the store's
 * environment prefix, so keys never collide across environments. Uploads are verified (size and
 * checksum) and retried. Passes `test/contracts/storage.contract.ts`.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Hex SHA-256 of the content, recorded at upload. */
  sha256: string;
}

export interface ObjectStore {
  readonly kind: 's3' | 'local';
  /** Upload a local file (multipart when large), verify it, and return what was stored. */
  putFile(key: string, path: string): Promise<ObjectInfo>;
  putBytes(key: string, body: Uint8Array): Promise<ObjectInfo>;
  /** Undefined when absent. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Stream the content; NotFoundError when absent. */
  get(key: string): Promise<Readable>;
  /** Download to `path` (atomically: temp file then rename) and check the SHA-256. */
  getToFile(key: string, path: string): Promise<ObjectInfo>;
  /** Keys under a prefix, in lexical order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
