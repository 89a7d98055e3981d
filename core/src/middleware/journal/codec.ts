/**
 * The local journal's record format (little-endian):
 *
 *   u32 bodyLength | u32 crc32(body) | body
 *   body = u64 seq | u64 timestampMs | u16 n, subject | u16 n, msgId | u32 n, headers JSON | data
 *
 * `data` is the rest of the body, stored verbatim. u64 fields are written as 48-bit integers
 * plus two zero bytes (every value fits; a non-zero high part means corruption).
 */
import { crc32 } from 'node:zlib';

export const HEADER_BYTES = 8;
const FIXED_BODY_BYTES = 8 + 8 + 2 + 2 + 4;
/** Upper bound of one record body; larger lengths are treated as corruption. */
export const MAX_BODY_BYTES = 128 * 1024 * 1024;

export interface StoredRecord {
  seq: number;
  timestamp: number;
  subject: string;
  msgId: string;
  headers: Record<string, string>;
  data: Uint8Array;
}

export type DecodeResult =
  | { kind: 'record'; record: StoredRecord; end: number }
  /** The buffer ends inside the record; `need` bytes from the record start would hold it. */
  | { kind: 'short'; need: number }
  | { kind: 'bad'; reason: string };

/** Sizes computed once per record, then used by `writeRecord`. */
export interface RecordLayout {
  size: number;
  subjectLen: number;
  idLen: number;
  headers: string;
}

/** Bytes the record takes on disk (header included); throws RangeError when it cannot be stored. */
export function layoutRecord(r: Omit<StoredRecord, 'seq' | 'timestamp'>): RecordLayout {
  const subjectLen = Buffer.byteLength(r.subject);
  const idLen = Buffer.byteLength(r.msgId);
  if (subjectLen > 0xffff || idLen > 0xffff) throw new RangeError('subject and msgId must be under 64 KiB');
  let headers = '';
  for (const _ in r.headers) {
    headers = JSON.stringify(r.headers);
    break;
  }
  const bodyLen = FIXED_BODY_BYTES + subjectLen + idLen + Buffer.byteLength(headers) + r.data.byteLength;
  if (bodyLen > MAX_BODY_BYTES) throw new RangeError(`record of ${bodyLen} bytes exceeds the ${MAX_BODY_BYTES} byte limit`);
  return { size: HEADER_BYTES + bodyLen, subjectLen, idLen, headers };
}

/** Write the record at `off` of `buf` (which has `l.size` bytes free there); returns the end offset. */
export function writeRecord(buf: Buffer, off: number, r: StoredRecord, l: RecordLayout): number {
  let o = off + HEADER_BYTES;
  o = writeU64(buf, r.seq, o);
  o = writeU64(buf, r.timestamp, o);
  o = buf.writeUInt16LE(l.subjectLen, o);
  o += buf.write(r.subject, o, 'utf8');
  o = buf.writeUInt16LE(l.idLen, o);
  o += buf.write(r.msgId, o, 'utf8');
  const headersLen = buf.write(l.headers, o + 4, 'utf8');
  o = buf.writeUInt32LE(headersLen, o) + headersLen;
  buf.set(r.data, o);
  const end = off + l.size;
  buf.writeUInt32LE(l.size - HEADER_BYTES, off);
  buf.writeUInt32LE(crc32(buf.subarray(off + HEADER_BYTES, end)) >>> 0, off + 4);
  return end;
}

/** Decode the record starting at `off`, using bytes up to `end`. Data is copied out of `buf`. */
export function decodeRecord(buf: Buffer, off: number, end: number): DecodeResult {
  if (end - off < HEADER_BYTES) return { kind: 'short', need: HEADER_BYTES };
  const bodyLen = buf.readUInt32LE(off);
  if (bodyLen < FIXED_BODY_BYTES || bodyLen > MAX_BODY_BYTES) return { kind: 'bad', reason: `implausible record length ${bodyLen}` };
  const bodyEnd = off + HEADER_BYTES + bodyLen;
  if (bodyEnd > end) return { kind: 'short', need: HEADER_BYTES + bodyLen };
  if ((crc32(buf.subarray(off + HEADER_BYTES, bodyEnd)) >>> 0) !== buf.readUInt32LE(off + 4)) return { kind: 'bad', reason: 'CRC mismatch' };
  let o = off + HEADER_BYTES;
  const seq = readU64(buf, o);
  const timestamp = readU64(buf, o + 8);
  if (seq === undefined || timestamp === undefined) return { kind: 'bad', reason: 'sequence or timestamp out of range' };
  o += 16;
  const field = (lenBytes: 2 | 4): string | undefined => {
    if (o + lenBytes > bodyEnd) return undefined;
    const n = lenBytes === 2 ? buf.readUInt16LE(o) : buf.readUInt32LE(o);
    o += lenBytes;
    if (o + n > bodyEnd) return undefined;
    o += n;
    return buf.toString('utf8', o - n, o);
  };
  const subject = field(2);
  const msgId = field(2);
  const headersText = field(4);
  if (subject === undefined || msgId === undefined || headersText === undefined) return { kind: 'bad', reason: 'field lengths overrun the record' };
  let headers: Record<string, string> = {};
  if (headersText !== '') {
    try {
      headers = JSON.parse(headersText) as Record<string, string>;
    } catch {
      return { kind: 'bad', reason: 'headers are not JSON' };
    }
  }
  return { kind: 'record', record: { seq, timestamp, subject, msgId, headers, data: new Uint8Array(buf.subarray(o, bodyEnd)) }, end: bodyEnd };
}

/**
 * Is there a valid record with a sequence above `afterSeq` anywhere in `buf` after `from`?
 * Used on open to tell a torn tail (nothing valid follows) from corruption in the middle.
 */
export function validRecordFollows(buf: Buffer, from: number, afterSeq: number): boolean {
  for (let p = from + 1; p + HEADER_BYTES + FIXED_BODY_BYTES <= buf.length; p++) {
    const bodyLen = buf.readUInt32LE(p);
    if (bodyLen < FIXED_BODY_BYTES || p + HEADER_BYTES + bodyLen > buf.length) continue;
    const seq = readU64(buf, p + HEADER_BYTES);
    if (seq === undefined || seq <= afterSeq) continue;
    if (decodeRecord(buf, p, buf.length).kind === 'record') return true;
  }
  return false;
}

function writeU64(buf: Buffer, v: number, o: number): number {
  buf.writeUIntLE(v, o, 6);
  buf.writeUInt16LE(0, o + 6);
  return o + 8;
}

function readU64(buf: Buffer, o: number): number | undefined {
  return buf.readUInt16LE(o + 6) === 0 ? buf.readUIntLE(o, 6) : undefined;
}
