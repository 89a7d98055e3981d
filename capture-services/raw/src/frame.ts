import type { JournalMessage, JournalRecord } from '../../../core/src/middleware/journal.js';
import { rawSubject } from '../../../core/src/middleware/subjects.js';

/**
 * A raw frame as captured (M4, "raw is sacred"): the exact bytes the venue sent, with when and
 * how they arrived. Everything downstream is rebuilt from these.
 */
export interface RawFrame {
  env: string;
  feed: string;
  /** Shard of the connector that received it. */
  shard: number;
  /** Connection id, unique per connection attempt (e.g. `kalshi-0-1764470000000-3`). */
  conn: string;
  /** Sequence within the connection, from 1, with no gaps. */
  connSeq: number;
  /** Receive time, ns since the epoch, from the connector's clock. */
  recvNs: bigint;
  /** Classification from the venue's classifier; `unknown` when it could not tell. */
  type: string;
  /** Instrument the frame is about; `_` when none (acks, heartbeats). */
  symbol: string;
  /** The frame exactly as received. */
  bytes: Uint8Array;
  /** Set on frames read back from the journal. */
  journalSeq?: number;
}

const H = { recvNs: 'Ssmd-Recv-Ns', conn: 'Ssmd-Conn', connSeq: 'Ssmd-Conn-Seq', shard: 'Ssmd-Shard', type: 'Ssmd-Type', symbol: 'Ssmd-Symbol' } as const;

/** The journal record for a frame: the bytes verbatim as data, metadata in headers, `conn:connSeq` as message id. */
export function toJournalRecord(f: RawFrame): JournalRecord {
  return {
    subject: rawSubject({ env: f.env, feed: f.feed, type: f.type, symbol: f.symbol }),
    msgId: `${f.conn}:${f.connSeq}`,
    data: f.bytes,
    headers: { [H.recvNs]: f.recvNs.toString(), [H.conn]: f.conn, [H.connSeq]: String(f.connSeq), [H.shard]: String(f.shard), [H.type]: f.type, [H.symbol]: f.symbol },
  };
}

/** Rebuild a frame from a journal message written by `toJournalRecord`. */
export function fromJournalMessage(env: string, feed: string, m: JournalMessage): RawFrame {
  const h = m.headers;
  const need = (k: string): string => {
    const v = h[k];
    if (v === undefined) throw new Error(`journal message ${m.stream}#${m.seq} has no ${k} header: not a raw frame`);
    return v;
  };
  return {
    env, feed, shard: Number(need(H.shard)), conn: need(H.conn), connSeq: Number(need(H.connSeq)), recvNs: BigInt(need(H.recvNs)),
    type: need(H.type), symbol: need(H.symbol), bytes: m.data, journalSeq: m.seq,
  };
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * One line of a raw day file (JSON Lines). A frame that is valid UTF-8 JSON on one line is
 * embedded verbatim under `m`, so its bytes are kept exactly; other text goes under `x` as a JSON
 * string; bytes that are not UTF-8 go under `b` as base64. Metadata: `r` receive ns, `c` conn,
 * `q` conn seq, `s` shard, `j` journal seq, `t` type, `y` symbol.
 */
export function encodeArchiveLine(f: RawFrame): string {
  const head = `{"r":"${f.recvNs}","c":${JSON.stringify(f.conn)},"q":${f.connSeq},"s":${f.shard},"j":${f.journalSeq ?? 0},"t":${JSON.stringify(f.type)},"y":${JSON.stringify(f.symbol)}`;
  let text: string;
  try {
    text = decoder.decode(f.bytes);
  } catch {
    return `${head},"b":"${Buffer.from(f.bytes).toString('base64')}"}`;
  }
  if (!/[\n\r\u2028\u2029]/.test(text) && isJson(text)) return `${head},"m":${text}}`;
  return `${head},"x":${JSON.stringify(text)}}`;
}

function isJson(text: string): boolean {
  const t = text.trimStart();
  if (t === '' || (t[0] !== '{' && t[0] !== '[')) return false; // only objects and arrays are embedded
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parse an archive line back into a frame with the original bytes. For `m`, the bytes are cut
 * from the line itself (not re-serialized), so number text such as `0.5660` survives exactly.
 */
export function decodeArchiveLine(env: string, feed: string, line: string): RawFrame {
  const meta = JSON.parse(line) as { r: string; c: string; q: number; s: number; j: number; t: string; y: string; m?: unknown; x?: string; b?: string };
  let bytes: Uint8Array;
  if (meta.b !== undefined) bytes = Buffer.from(meta.b, 'base64');
  else if (meta.x !== undefined) bytes = Buffer.from(meta.x, 'utf8');
  else {
    const start = line.indexOf(',"m":') + 5;
    bytes = Buffer.from(line.slice(start, line.length - 1), 'utf8');
  }
  return { env, feed, shard: meta.s, conn: meta.c, connSeq: meta.q, recvNs: BigInt(meta.r), type: meta.t, symbol: meta.y, bytes, journalSeq: meta.j };
}
