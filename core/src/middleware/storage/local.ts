import { createReadStream } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../../errors.js';
import { IntegrityError } from '../errors.js';
import type { ObjectInfo, ObjectStore } from '../storage.js';
import { assertValidKey, assertValidListPrefix, normalizePrefix, sha256File } from './index.js';
import { writeFileAtomic } from '../../fsutil.js';

/** Options of {@link LocalObjectStore}. */
export interface LocalObjectStoreOptions {
  /** Directory holding every environment's objects. */
  root: string;
  /** Environment name: objects live under `<root>/<prefix>/`. */
  prefix: string;
}

const isMissing = (err: unknown): boolean => ['ENOENT', 'ENOTDIR', 'EISDIR'].includes((err as { code?: string }).code ?? '');

/**
 * Object storage in a local directory: key `a/b` is the file `<root>/<prefix>/a/b`. Writes are
 * atomic (temp file, fsync, rename); the SHA-256 is kept in a hidden sidecar `.b.sha256` beside the
 * file and recomputed when the sidecar is missing. A key cannot be both an object and a "folder"
 * of other objects here (S3 allows it).
 */
export class LocalObjectStore implements ObjectStore {
  readonly kind = 'local' as const;
  readonly #base: string;

  constructor(opts: LocalObjectStoreOptions) {
    this.#base = path.resolve(opts.root, ...normalizePrefix(opts.prefix).split('/'));
  }

  async putFile(key: string, file: string): Promise<ObjectInfo> {
    return this.#put(key, createReadStream(file));
  }

  async putBytes(key: string, body: Uint8Array): Promise<ObjectInfo> {
    return this.#put(key, body);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    assertValidKey(key);
    return this.#info(key);
  }

  async get(key: string): Promise<Readable> {
    assertValidKey(key);
    try {
      const fh = await fsp.open(this.#file(key), 'r');
      if (!(await fh.stat()).isFile()) {
        await fh.close();
        throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      }
      return fh.createReadStream();
    } catch (err) {
      if (isMissing(err)) throw new NotFoundError(`object ${key} not found in ${this.#base}`, { cause: err });
      throw err;
    }
  }

  async getToFile(key: string, dest: string): Promise<ObjectInfo> {
    const info = await this.head(key);
    if (info === undefined) throw new NotFoundError(`object ${key} not found in ${this.#base}`);
    await writeFileAtomic(dest, createReadStream(this.#file(key)), (got) => {
      if (got.sha256 !== info.sha256 || got.size !== info.size) {
        throw new IntegrityError(`object ${key}: read ${got.size} bytes sha256 ${got.sha256}, stored ${info.size} bytes sha256 ${info.sha256}`);
      }
    });
    return info;
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidListPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    yield* this.#walk(prefix.slice(0, slash + 1), prefix.slice(slash + 1));
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    const file = this.#file(key);
    await fsp.rm(sidecarOf(file), { force: true });
    await fsp.rm(file, { force: true });
  }

  async close(): Promise<void> {}

  // Keys under directory `dirKey` (`''` or ending in `/`) whose next segment starts with `namePrefix`, in byte order.
  async *#walk(dirKey: string, namePrefix: string): AsyncGenerator<ObjectInfo> {
    let entries;
    try {
      entries = await fsp.readdir(path.join(this.#base, dirKey), { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    // A directory sorts as "name/": that is where its keys fall among its siblings.
    const items = entries
      .filter((e) => !e.name.startsWith('.') && e.name.startsWith(namePrefix) && (e.isFile() || e.isDirectory()))
      .map((e) => ({ name: e.name, dir: e.isDirectory(), sort: Buffer.from(e.isDirectory() ? `${e.name}/` : e.name) }))
      .sort((a, b) => Buffer.compare(a.sort, b.sort));
    for (const item of items) {
      if (item.dir) yield* this.#walk(`${dirKey}${item.name}/`, '');
      else {
        const info = await this.#info(dirKey + item.name);
        if (info !== undefined) yield info;
      }
    }
  }

  async #put(key: string, source: Uint8Array | AsyncIterable<Uint8Array>): Promise<ObjectInfo> {
    assertValidKey(key);
    const file = this.#file(key);
    const sidecar = sidecarOf(file);
    await fsp.rm(sidecar, { force: true }); // a missing sidecar is recomputed; a stale one would lie
    const { sha256, size } = await writeFileAtomic(file, source);
    await writeFileAtomic(sidecar, Buffer.from(`${sha256}\n`));
    return { key, size, sha256 };
  }

  async #info(key: string): Promise<ObjectInfo | undefined> {
    const file = this.#file(key);
    let size: number;
    try {
      const st = await fsp.stat(file);
      if (!st.isFile()) return undefined;
      size = st.size;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    const stored = await fsp.readFile(sidecarOf(file), 'utf8').catch(() => '');
    const sha256 = /^[0-9a-f]{64}/.exec(stored)?.[0] ?? (await this.#recompute(file));
    return { key, size, sha256 };
  }

  async #recompute(file: string): Promise<string> {
    const { sha256 } = await sha256File(file);
    await writeFileAtomic(sidecarOf(file), Buffer.from(`${sha256}\n`));
    return sha256;
  }

  #file(key: string): string {
    return path.join(this.#base, ...key.split('/'));
  }
}

function sidecarOf(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.sha256`);
}

