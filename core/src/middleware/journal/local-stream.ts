/**
 * Loading one local stream from its directory: segment metadata, the last sequence, torn-tail
 * repair of the last segment, and the duplicate window rebuilt from the records inside it.
 */
import fsp from 'node:fs/promises';
import type { StreamSpec } from '../journal.js';
import { validRecordFollows, type StoredRecord } from './codec.js';
import { JournalCorruptError } from './errors.js';
import { listSegments, readFirstRecord, SegmentReader, segmentFile } from './segment.js';
import { effectiveDuplicateWindowMs } from './streams.js';

export interface SegmentMeta {
  first: number;
  /** Timestamp of the first record (undefined while the segment is empty). */
  firstTs: number | undefined;
  /** Bytes appended, including bytes still waiting in the write buffer. */
  bytes: number;
  /** The file exists on disk. */
  onDisk: boolean;
}

export interface DedupeEntry {
  seq: number;
  at: number;
}

/** A torn tail that was cut off on open. */
export interface RecoveryNote {
  file: string;
  offset: number;
  droppedBytes: number;
  reason: string;
}

export interface LoadedStream {
  segments: SegmentMeta[];
  lastSeq: number;
  lastTs: number;
  bytes: number;
  dedupe: Map<string, DedupeEntry>;
  recovered: RecoveryNote[];
}

export interface LoadOptions {
  now: number;
  /** Truncate a torn tail (the writer); a read-only opener just stops before it. */
  repair: boolean;
  /** Rebuild the duplicate window (only the writer needs it). */
  dedupe: boolean;
}

/** Read a stream directory's state; with `repair`, cut a torn tail off the last segment. */
export async function loadStream(dir: string, spec: StreamSpec, o: LoadOptions): Promise<LoadedStream> {
  let segments: SegmentMeta[] = [];
  for (const first of await listSegments(dir)) {
    const size = await sizeOf(segmentFile(dir, first));
    if (size !== undefined) segments.push({ first, firstTs: undefined, bytes: size, onDisk: true });
  }
  for (const seg of segments.slice(0, -1)) {
    const file = segmentFile(dir, seg.first);
    const rec = await readFirstRecord(file);
    if (rec === undefined && (await sizeOf(file)) === undefined) continue; // removed by the writer's retention meanwhile
    if (rec?.seq !== seg.first) throw new JournalCorruptError(file, 0, `first record is not sequence ${seg.first}`);
    seg.firstTs = rec.timestamp;
  }
  segments = segments.filter((s, i) => s.firstTs !== undefined || i === segments.length - 1);
  const cutoff = o.now - effectiveDuplicateWindowMs(spec);
  const out: LoadedStream = { segments, lastSeq: 0, lastTs: segments.at(-2)?.firstTs ?? 0, bytes: 0, dedupe: new Map(), recovered: [] };
  const tail: StoredRecord[] = [];
  const last = segments.at(-1);
  if (last) {
    out.lastSeq = last.first - 1;
    await scanLastSegment(dir, last, out, o, (r) => {
      if (o.dedupe && r.msgId !== '' && r.timestamp >= cutoff) tail.push(r);
    });
  }
  if (o.dedupe) {
    // Earlier segments can hold records inside the window only from the last one starting before the cutoff.
    let start = 0;
    for (let i = segments.length - 2; i >= 0; i--) {
      if (segments[i]!.firstTs! <= cutoff) {
        start = i;
        break;
      }
    }
    for (let i = start; i < segments.length - 1; i++) {
      await scanSealedSegment(segmentFile(dir, segments[i]!.first), (r) => {
        if (r.msgId !== '' && r.timestamp >= cutoff) remember(out.dedupe, r);
      });
    }
    for (const r of tail) remember(out.dedupe, r);
  }
  out.bytes = segments.reduce((n, s) => n + s.bytes, 0);
  return out;
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await fsp.stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function remember(map: Map<string, DedupeEntry>, r: StoredRecord): void {
  map.delete(r.msgId); // keep insertion order = time order, so pruning can stop at the first young entry
  map.set(r.msgId, { seq: r.seq, at: r.timestamp });
}

async function scanLastSegment(dir: string, seg: SegmentMeta, out: LoadedStream, o: LoadOptions, onRecord: (r: StoredRecord) => void): Promise<void> {
  const file = segmentFile(dir, seg.first);
  const reader = await SegmentReader.open(file);
  if (!reader) return;
  try {
    for (;;) {
      const r = await reader.read();
      for (let i = 0; i < r.records.length; i++) {
        const rec = r.records[i]!;
        if (rec.seq !== out.lastSeq + 1) throw new JournalCorruptError(file, r.offsets[i]!, `expected sequence ${out.lastSeq + 1}, found ${rec.seq}`);
        seg.firstTs ??= rec.timestamp;
        out.lastSeq = rec.seq;
        out.lastTs = rec.timestamp;
        onRecord(rec);
      }
      if (r.state === 'more') continue;
      if (r.state === 'eof') return;
      // A damaged record: a torn tail if nothing valid follows it, otherwise real corruption.
      const at = reader.offset;
      seg.bytes = at;
      if (!o.repair) return;
      const rest = await reader.readRest();
      const reason = r.reason ?? 'incomplete record';
      if (validRecordFollows(rest, 0, out.lastSeq)) throw new JournalCorruptError(file, at, `${reason}, and valid records follow it`);
      const fh = await fsp.open(file, 'r+');
      try {
        await fh.truncate(at);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      out.recovered.push({ file, offset: at, droppedBytes: rest.length, reason });
      return;
    }
  } finally {
    await reader.close();
  }
}

/** Read every record of a segment that is no longer written; any damage is corruption. */
export async function scanSealedSegment(file: string, onRecord: (r: StoredRecord) => void): Promise<void> {
  const reader = await SegmentReader.open(file);
  if (!reader) return;
  try {
    for (;;) {
      const r = await reader.read();
      for (const rec of r.records) onRecord(rec);
      if (r.state === 'eof') return;
      if (r.state !== 'more') throw new JournalCorruptError(file, reader.offset, r.reason ?? 'incomplete record in a sealed segment');
    }
  } finally {
    await reader.close();
  }
}
