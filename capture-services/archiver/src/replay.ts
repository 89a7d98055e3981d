/**
 * Reading an archived day back (style lesson 6): `replay` yields the archived frames of a feed
 * between two instants as `RawFrame`s with their original bytes, so the same consumers that take a
 * live `stream()` can take an archived day. Only files a manifest lists (closed files) are read;
 * within a day frames come in journal order (files whose journal ranges overlap, e.g. the end of
 * one hour and the start of the next, are merged). With a `store`, a day missing on block storage
 * is fetched (verified) into `cacheDir` under the same relative keys.
 */
import { createReadStream } from 'node:fs';
import fsp from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { ObjectStore } from '../../../core/src/middleware/storage.js';
import { decodeArchiveLine, type RawFrame } from '../../raw/src/frame.js';
import { blockPath, dayKey, daysBetween, MANIFEST_NAME, utcDay } from './layout.js';
import { readManifest, type Manifest, type ManifestFile } from './manifest.js';

export interface ReplayOptions {
  blockDir: string;
  env: string;
  feed: string;
  /** First receive time (inclusive). */
  from: Date;
  /** Last receive time (exclusive). */
  to: Date;
  /** Only frames of these types (channels); all when omitted. */
  types?: readonly string[];
  /** Fetch days missing on block storage from here... */
  store?: ObjectStore;
  /** ...into this directory (same relative keys). Defaults to `blockDir`. */
  cacheDir?: string;
  signal?: AbortSignal;
}

const NS_PER_MS = 1_000_000n;

/** The archived frames with `from <= recvNs < to`, day by day, in journal order within a day. */
export async function* replay(o: ReplayOptions): AsyncGenerator<RawFrame> {
  const fromNs = BigInt(o.from.getTime()) * NS_PER_MS;
  const toNs = BigInt(o.to.getTime()) * NS_PER_MS;
  if (toNs <= fromNs) return;
  const types = o.types === undefined ? undefined : new Set(o.types);
  for (const day of daysBetween(utcDay(fromNs), utcDay(toNs - 1n), 366)) {
    const found = await locateDay(o, day);
    if (found === undefined) continue;
    const { manifest, root } = found;
    for (const cluster of clusters(manifest.files)) {
      const sources = cluster.map((f) => readFile(o, blockPath(root, dayKey(o.env, o.feed, day, f.name))));
      for await (const frame of sources.length === 1 ? sources[0]! : mergeByJournalSeq(sources)) {
        if (o.signal?.aborted) return;
        if (frame.recvNs < fromNs || frame.recvNs >= toNs) continue;
        if (types !== undefined && !types.has(frame.type)) continue;
        yield frame;
      }
    }
  }
}

/** Frames of one raw file, in file order; streamed (one decompressed chunk at a time). */
export async function* readRawFile(env: string, feed: string, file: string): AsyncGenerator<RawFrame> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  const gunzip = createReadStream(file).pipe(createGunzip());
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line !== '') yield decodeArchiveLine(env, feed, line);
  }
  rest += decoder.end();
  if (rest !== '') yield decodeArchiveLine(env, feed, rest);
}

function readFile(o: ReplayOptions, file: string): AsyncGenerator<RawFrame> {
  return readRawFile(o.env, o.feed, file);
}

async function locateDay(o: ReplayOptions, day: string): Promise<{ manifest: Manifest; root: string } | undefined> {
  const local = await readManifest(blockPath(o.blockDir, dayKey(o.env, o.feed, day, MANIFEST_NAME)));
  if (local !== undefined && (o.store === undefined || (await allPresent(o.blockDir, o, day, local)))) return { manifest: local, root: o.blockDir };
  if (o.store === undefined) return undefined;
  const root = o.cacheDir ?? o.blockDir;
  const mkey = dayKey(o.env, o.feed, day, MANIFEST_NAME);
  if ((await o.store.head(mkey)) === undefined) return local === undefined ? undefined : { manifest: local, root: o.blockDir };
  await o.store.getToFile(mkey, blockPath(root, mkey));
  const manifest = (await readManifest(blockPath(root, mkey)))!;
  for (const f of manifest.files) {
    const key = dayKey(o.env, o.feed, day, f.name);
    const dest = blockPath(root, key);
    const have = await fsp.stat(dest).catch(() => undefined);
    if (have?.size !== f.bytes) await o.store.getToFile(key, dest);
  }
  return { manifest, root };
}

async function allPresent(root: string, o: ReplayOptions, day: string, m: Manifest): Promise<boolean> {
  for (const f of m.files) {
    const st = await fsp.stat(blockPath(root, dayKey(o.env, o.feed, day, f.name))).catch(() => undefined);
    if (st?.size !== f.bytes) return false;
  }
  return true;
}

/** Files grouped so that files whose journal ranges overlap are in one group; groups in journal order. */
function clusters(files: readonly ManifestFile[]): ManifestFile[][] {
  const sorted = [...files].sort((a, b) => a.firstJournalSeq - b.firstJournalSeq);
  const out: ManifestFile[][] = [];
  let maxLast = -1;
  for (const f of sorted) {
    const cur = out.at(-1);
    if (cur !== undefined && f.firstJournalSeq <= maxLast) cur.push(f);
    else out.push([f]);
    maxLast = Math.max(maxLast, f.lastJournalSeq);
  }
  return out;
}

/** K-way merge by journal sequence (each source is already in journal order). */
async function* mergeByJournalSeq(sources: AsyncGenerator<RawFrame>[]): AsyncGenerator<RawFrame> {
  const heads = await Promise.all(sources.map((s) => s.next()));
  try {
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]!;
        if (h.done) continue;
        if (best < 0 || (h.value.journalSeq ?? 0) < ((heads[best]!.value as RawFrame).journalSeq ?? 0)) best = i;
      }
      if (best < 0) return;
      yield heads[best]!.value as RawFrame;
      heads[best] = await sources[best]!.next();
    }
  } finally {
    await Promise.all(sources.map((s) => s.return(undefined)));
  }
}
