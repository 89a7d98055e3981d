/** The behaviour every ObjectStore implementation must have (core/src/middleware/storage.ts). */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../core/src/errors.js';
import type { ObjectInfo, ObjectStore } from '../../core/src/middleware/storage.js';
import { InvalidKeyError } from '../../core/src/middleware/storage/index.js';

const MiB = 1024 * 1024;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Byte order of UTF-8, the order S3 lists keys in. */
const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Run the storage contract. `open(prefix)` opens a store for environment `prefix` on the same
 * bucket or root every time; it should list in pages of a few keys (the contract lists ~30).
 */
export function describeStorageContract(name: string, open: (prefix: string) => Promise<ObjectStore>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let tmp: string;
    const stores: ObjectStore[] = [];
    const openStore = async (prefix: string): Promise<ObjectStore> => {
      const s = await open(prefix);
      stores.push(s);
      return s;
    };

    beforeAll(async () => {
      tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'ssmd-storage-contract-'));
      store = await openStore(`contract-${Date.now()}`);
    });
    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
      if (tmp !== undefined) await fsp.rm(tmp, { recursive: true, force: true });
    });

    it('stores bytes and reads them back byte-exactly (head, get, getToFile)', async () => {
      const body = Buffer.concat([randomBytes(1000), Buffer.from('€\u0000\r\n')]);
      const key = 'bytes/2024-01-02/trades é.bin';
      expect(await store.putBytes(key, body)).toEqual({ key, size: body.length, sha256: sha256(body) });
      expect(await store.head(key)).toEqual({ key, size: body.length, sha256: sha256(body) });
      expect((await readAll(await store.get(key))).equals(body)).toBe(true);
      const dest = path.join(tmp, 'out', 'bytes.bin');
      expect(await store.getToFile(key, dest)).toEqual({ key, size: body.length, sha256: sha256(body) });
      expect(fs.readFileSync(dest).equals(body)).toBe(true);
      expect(fs.readdirSync(path.dirname(dest))).toEqual(['bytes.bin']); // no temp file left
    });

    it('stores an empty object and overwrites an existing one', async () => {
      expect(await store.putBytes('empty', new Uint8Array())).toMatchObject({ size: 0, sha256: sha256(Buffer.alloc(0)) });
      expect((await readAll(await store.get('empty'))).length).toBe(0);
      await store.putBytes('over', Buffer.from('first'));
      await store.putBytes('over', Buffer.from('second!'));
      expect(await store.head('over')).toEqual({ key: 'over', size: 7, sha256: sha256(Buffer.from('second!')) });
      expect((await readAll(await store.get('over'))).toString()).toBe('second!');
    });

    it('uploads a small file and a 20 MiB file (multipart on S3) and round-trips them', async () => {
      for (const [label, size] of [['small', 4096], ['large', 20 * MiB + 123]] as const) {
        const body = randomBytes(size);
        const src = path.join(tmp, `${label}.src`);
        fs.writeFileSync(src, body);
        const key = `files/${label}.bin`;
        expect(await store.putFile(key, src)).toEqual({ key, size, sha256: sha256(body) });
        expect(await store.head(key)).toEqual({ key, size, sha256: sha256(body) });
        const dest = path.join(tmp, `${label}.dst`);
        expect(await store.getToFile(key, dest)).toEqual({ key, size, sha256: sha256(body) });
        expect(sha256(fs.readFileSync(dest))).toBe(sha256(body));
        expect(sha256(await readAll(await store.get(key)))).toBe(sha256(body));
        expect(fs.readFileSync(src).equals(body)).toBe(true); // the source is left alone
      }
    });

    it('lists keys under a prefix in byte order, across pages', async () => {
      const keys = [
        ...Array.from({ length: 24 }, (_, i) => `list/day/${String(i).padStart(3, '0')}.ndjson`),
        'list/a-c', 'list/a/b', 'list/a.x', 'list/ab', 'list/é', 'list/z',
      ];
      for (const k of [...keys].reverse()) await store.putBytes(k, Buffer.from(k));
      const all = await collect(store.list('list/'));
      expect(all.map((o) => o.key)).toEqual([...keys].sort(byteOrder));
      expect(all.find((o) => o.key === 'list/z')).toEqual({ key: 'list/z', size: 6, sha256: sha256(Buffer.from('list/z')) });
      expect((await collect(store.list('list/a'))).map((o) => o.key)).toEqual(['list/a-c', 'list/a.x', 'list/a/b', 'list/ab']);
      expect((await collect(store.list('list/a/'))).map((o) => o.key)).toEqual(['list/a/b']);
      expect((await collect(store.list('list/day/01'))).map((o) => o.key)).toEqual(
        Array.from({ length: 10 }, (_, i) => `list/day/01${i}.ndjson`),
      );
      expect(await collect(store.list('nothing-here/'))).toEqual([]);
      expect((await collect(store.list(''))).map((o) => o.key)).toContain('list/a/b');
    });

    it('deletes objects; a missing key is undefined for head and NotFoundError for get', async () => {
      await store.putBytes('del/me', Buffer.from('x'));
      await store.delete('del/me');
      await store.delete('del/me'); // idempotent
      expect(await store.head('del/me')).toBeUndefined();
      expect(await store.head('never/was')).toBeUndefined();
      await expect(store.get('del/me')).rejects.toBeInstanceOf(NotFoundError);
      const dest = path.join(tmp, 'missing.bin');
      await expect(store.getToFile('never/was', dest)).rejects.toBeInstanceOf(NotFoundError);
      expect(fs.existsSync(dest)).toBe(false);
      expect(await collect(store.list('del/'))).toEqual([]);
    });

    it('rejects invalid keys', async () => {
      const bad = ['', '/abs', 'a/../b', '..', 'a//b', 'a/', 'a\\b', 'a/./b', '.hidden', 'x/.tmp', 'ctl\u0001', 'k'.repeat(1025)];
      for (const key of bad) {
        await expect(store.putBytes(key, Buffer.from('x')), key).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.head(key), key).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.get(key), key).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(store.delete(key), key).rejects.toBeInstanceOf(InvalidKeyError);
      }
      await expect(collect(store.list('../'))).rejects.toBeInstanceOf(InvalidKeyError);
    });

    it('keeps environments apart on the same bucket or root', async () => {
      const a = await openStore(`env-a-${Date.now()}`);
      const b = await openStore(`env-b-${Date.now()}`);
      await a.putBytes('same/key', Buffer.from('from a'));
      expect(await b.head('same/key')).toBeUndefined();
      await b.putBytes('same/key', Buffer.from('from b!'));
      expect((await readAll(await a.get('same/key'))).toString()).toBe('from a');
      expect((await readAll(await b.get('same/key'))).toString()).toBe('from b!');
      expect((await collect(a.list(''))).map((o) => o.key)).toEqual(['same/key']);
      await b.delete('same/key');
      expect(await a.head('same/key')).toMatchObject({ size: 6 });
    });
  });
}
