/**
 * Segment files of the local journal: `<stream dir>/<first seq, 20 digits>.seg`, append-only, and
 * a reader that walks one in bounded chunks (a whole segment is never loaded at once).
 */
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { decodeRecord, HEADER_BYTES, MAX_BODY_BYTES, type StoredRecord } from './codec.js';

const SUFFIX = '.seg';
const CHUNK_BYTES = 1024 * 1024;

/** Path of the segment whose first record is `first`. */
export function segmentFile(dir: string, first: number): string {
  return path.join(dir, `${String(first).padStart(20, '0')}${SUFFIX}`);
}

/** First sequences of the segments in `dir`, ascending ([] when the dir does not exist). */
export async function listSegments(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => /^\d{20}\.seg$/.test(n))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b);
}

/** Index of the last element <= `value` in ascending `sorted` (-1 if none). */
export function floorIndex(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= value) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

export interface ReadResult {
  records: StoredRecord[];
  /** File offset where each record starts. */
  offsets: number[];
  /**
   * `more`: call again; `eof`: every byte so far was read; `partial`: the bytes after `offset`
   * are an incomplete record (being written, or torn); `bad`: the record at `offset` is invalid.
   */
  state: 'more' | 'eof' | 'partial' | 'bad';
  reason?: string;
}

/** Sequential reader over one segment file, from `offset`. */
export class SegmentReader {
  #size = 0;
  /** Reused for every chunk: decoded records copy their bytes out, so memory stays at one chunk. */
  #chunk: Buffer | undefined;

  private constructor(readonly file: string, private readonly fh: FileHandle, public offset: number) {}

  /** Open `file`; undefined when it no longer exists (deleted by retention). */
  static async open(file: string, offset = 0): Promise<SegmentReader | undefined> {
    try {
      return new SegmentReader(file, await fsp.open(file, 'r'), offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Read the records available now, up to about 1 MiB (or one larger record). */
  async read(): Promise<ReadResult> {
    if (this.offset >= this.#size) this.#size = (await this.fh.stat()).size;
    if (this.offset >= this.#size) return { records: [], offsets: [], state: 'eof' };
    let want = Math.min(CHUNK_BYTES, this.#size - this.offset);
    let buf = await this.#readAt(this.offset, want);
    const records: StoredRecord[] = [];
    const offsets: number[] = [];
    let p = 0;
    while (p < buf.length) {
      const r = decodeRecord(buf, p, buf.length);
      if (r.kind === 'record') {
        records.push(r.record);
        offsets.push(this.offset + p);
        p = r.end;
        continue;
      }
      if (r.kind === 'bad') {
        this.offset += p;
        return { records, offsets, state: 'bad', reason: r.reason };
      }
      if (p > 0) break; // continue with this record on the next call
      if (this.offset + r.need > this.#size) this.#size = (await this.fh.stat()).size;
      if (this.offset + r.need > this.#size || r.need <= want) return { records, offsets, state: 'partial' };
      want = r.need;
      buf = await this.#readAt(this.offset, want);
    }
    this.offset += p;
    return { records, offsets, state: this.offset >= this.#size ? 'eof' : 'more' };
  }

  /** Bytes from `offset` to the end of the file (used only to inspect a damaged tail). */
  async readRest(): Promise<Buffer> {
    const size = (await this.fh.stat()).size;
    return this.#readAt(this.offset, Math.max(0, size - this.offset));
  }

  close(): Promise<void> {
    return this.fh.close().catch(() => {});
  }

  async #readAt(pos: number, len: number): Promise<Buffer> {
    const buf = len <= CHUNK_BYTES ? (this.#chunk ??= Buffer.allocUnsafeSlow(CHUNK_BYTES)).subarray(0, len) : Buffer.allocUnsafe(len);
    const { bytesRead } = await this.fh.read(buf, 0, len, pos);
    return bytesRead === len ? buf : buf.subarray(0, bytesRead);
  }
}

/** The first record of a segment (undefined if the file is empty, missing or starts badly). */
export async function readFirstRecord(file: string): Promise<StoredRecord | undefined> {
  let fh: FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    if ((await fh.read(head, 0, HEADER_BYTES, 0)).bytesRead < HEADER_BYTES) return undefined;
    const len = HEADER_BYTES + head.readUInt32LE(0);
    if (len > HEADER_BYTES + MAX_BODY_BYTES) return undefined;
    const buf = Buffer.allocUnsafe(len);
    const { bytesRead } = await fh.read(buf, 0, len, 0);
    const r = decodeRecord(buf, 0, bytesRead);
    return r.kind === 'record' ? r.record : undefined;
  } finally {
    await fh.close().catch(() => {});
  }
}
