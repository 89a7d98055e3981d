/** Reading a local stream in order: from a sequence or a time, across segments, then tailing. */
import type { JournalMessage } from '../journal.js';
import { subjectMatches } from '../subjects.js';
import type { StoredRecord } from './codec.js';
import { JournalCorruptError } from './errors.js';
import { floorIndex, listSegments, readFirstRecord, SegmentReader, segmentFile } from './segment.js';

export interface StreamReadOptions {
  stream: string;
  dir: string;
  /** First sequence to deliver. */
  startSeq: number;
  /** Deliver only records stored at or after this time (epoch ms). */
  startTime?: number;
  /** Where to begin reading, when the caller knows (a segment and a byte offset in it). */
  hint?: { first: number; offset: number } | undefined;
  /** Stop after this sequence (Infinity to tail). */
  stopAfter: number;
  filter?: string;
  signal?: AbortSignal;
  /** Resolves on an append, after a short poll interval, or on abort. */
  wait: (signal?: AbortSignal) => Promise<void>;
  closed: () => boolean;
}

/** Messages of one stream in sequence order; see StreamReadOptions. */
export async function* readStream(o: StreamReadOptions): AsyncGenerator<JournalMessage> {
  let reader: SegmentReader | undefined;
  let current: number | undefined;
  let sealed = false;
  let lastSeen = o.startSeq - 1;
  let timeReached = o.startTime === undefined;
  const ended = () => o.signal?.aborted === true || o.closed();
  try {
    while (!ended()) {
      if (!reader) {
        const firsts = await listSegments(o.dir);
        const hinted = current === undefined && o.hint !== undefined && firsts.includes(o.hint.first);
        const next = hinted ? o.hint!.first : current === undefined ? await startSegment(o, firsts) : firsts.find((f) => f > current!);
        if (next === undefined) {
          if (lastSeen >= o.stopAfter) return;
          await o.wait(o.signal);
          continue;
        }
        current = next;
        sealed = false;
        reader = await SegmentReader.open(segmentFile(o.dir, next), hinted ? o.hint!.offset : 0);
        continue; // undefined: deleted by retention meanwhile; list again
      }
      const r = await reader.read();
      for (const rec of r.records) {
        if (rec.seq < o.startSeq) continue;
        if (!timeReached) {
          if (rec.timestamp < o.startTime!) continue;
          timeReached = true;
        }
        if (rec.seq > o.stopAfter) return;
        lastSeen = rec.seq;
        if (o.filter === undefined || subjectMatches(o.filter, rec.subject)) yield toMessage(o.stream, rec);
        if (rec.seq >= o.stopAfter || ended()) return;
      }
      if (r.state === 'bad') throw new JournalCorruptError(reader.file, reader.offset, r.reason ?? 'invalid record');
      if (r.state === 'more' || r.records.length > 0) continue;
      // Nothing new in this segment. Once a later segment exists this one is complete, but read
      // it once more first: its last bytes may have been written just before the roll.
      if (!sealed) {
        sealed = (await listSegments(o.dir)).some((f) => f > current!);
        if (sealed) continue;
        if (lastSeen >= o.stopAfter) return;
        await o.wait(o.signal);
        continue;
      }
      if (r.state === 'partial') throw new JournalCorruptError(reader.file, reader.offset, 'incomplete record in a sealed segment');
      await reader.close();
      reader = undefined;
    }
  } finally {
    await reader?.close();
  }
}

/** The segment to start in: by sequence, or by the first-record timestamps (binary search). */
async function startSegment(o: StreamReadOptions, firsts: number[]): Promise<number | undefined> {
  if (firsts.length === 0) return undefined;
  if (o.startTime === undefined) return firsts[Math.max(0, floorIndex(firsts, o.startSeq))];
  let lo = 0;
  let hi = firsts.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const first = await readFirstRecord(segmentFile(o.dir, firsts[mid]!));
    if (first !== undefined && first.timestamp <= o.startTime) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return firsts[found];
}

function toMessage(stream: string, r: StoredRecord): JournalMessage {
  const m: JournalMessage = { stream, subject: r.subject, data: r.data, seq: r.seq, timestamp: r.timestamp, headers: r.headers };
  if (r.msgId !== '') m.msgId = r.msgId;
  return m;
}
