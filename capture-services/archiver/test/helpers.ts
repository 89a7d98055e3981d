/** Shared pieces of the archiver tests: building and publishing frames, reading the archive back. */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Journal, StreamSpec } from '../../../core/src/middleware/journal.js';
import { rawFeedFilter, rawStreamName } from '../../../core/src/middleware/subjects.js';
import { decodeArchiveLine, toJournalRecord, type RawFrame } from '../../raw/src/frame.js';
import type { Manifest } from '../src/manifest.js';

export const NS_PER_MS = 1_000_000n;
export const MIN_NS = 60_000n * NS_PER_MS;
export const HOUR_NS = 60n * MIN_NS;

export function nsAt(iso: string): bigint {
  return BigInt(Date.parse(iso)) * NS_PER_MS;
}

export async function tempDir(label: string): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), `ssmd-archiver-${label}-`));
}

/** The raw stream of a feed, with the given limits. */
export function rawSpec(env: string, feed: string, over: Partial<StreamSpec> = {}): StreamSpec {
  return { name: rawStreamName(env, feed), subjects: [rawFeedFilter(env, feed)], maxAgeMs: 0, maxBytes: -1, discard: 'old', duplicateWindowMs: 120_000, ...over };
}

/** Bodies of every shape raw frames come in: JSON with exact decimals, pretty JSON, text, binary, empty. */
export function bodyFor(i: number, conn: string): Uint8Array {
  switch (i % 9) {
    case 0:
      return Buffer.from(`{"type":"ticker","sid":${i},"msg":{"market_ticker":"KXBTCD-26NOV30-T98000","price":0.5660,"yes_bid":56,"ts":${1764470000 + i}}}`);
    case 1:
      return Buffer.from(`{ "channel" : "book", "data" : [ { "bids" : [ { "price" : 0.5660 , "qty" : 1.00000000 } ] } ], "i": ${i} }`);
    case 2:
      return Buffer.from(`{\n  "pretty": ${i},\n  "conn": "${conn}"\n}`);
    case 3:
      return Buffer.from('PONG');
    case 4:
      return Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d, i & 0xff]);
    case 5:
      return new Uint8Array();
    case 6:
      return Buffer.from(`[${i},"trade",{"p":"98000.10"}]`);
    case 7:
      return Buffer.from(`{"unicode":"é\u2028ü","n":${i}}`);
    default:
      return Buffer.from(`{"type":"trade","msg":{"yes_price_dollars":"0.5600","count_fp":"${i}.00"}}`);
  }
}

export interface FramePlan {
  env: string;
  feed: string;
  conns: string[];
  count: number;
  /** Receive time of frame i. */
  recvNs: (i: number) => bigint;
  /** Symbol of frame i (default a few markets). */
  symbol?: (i: number) => string;
}

/** Frames in publish order; connections round-robin, each with its own connSeq from 1. */
export function planFrames(p: FramePlan): RawFrame[] {
  const seqs = new Map<string, number>();
  const types = ['ticker', 'trade', 'orderbook_delta'];
  const frames: RawFrame[] = [];
  for (let i = 0; i < p.count; i++) {
    const conn = p.conns[i % p.conns.length]!;
    const connSeq = (seqs.get(conn) ?? 0) + 1;
    seqs.set(conn, connSeq);
    frames.push({
      env: p.env, feed: p.feed, shard: p.conns.indexOf(conn), conn, connSeq, recvNs: p.recvNs(i), type: types[i % types.length]!,
      symbol: p.symbol?.(i) ?? ['KXBTCD-26NOV30-T98000', 'BTC/USD', 'weird sym.bol*'][i % 3]!, bytes: bodyFor(i, conn),
    });
  }
  return frames;
}

/** Publish in order, `window` at a time (each window concurrently, which keeps journal order = array order for one publisher). */
export async function publishAll(journal: Journal, frames: readonly RawFrame[], window = 500): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < frames.length; i += window) {
    const acks = await Promise.all(frames.slice(i, i + window).map((f) => journal.publish(toJournalRecord(f))));
    seqs.push(...acks.map((a) => a.seq));
  }
  return seqs;
}

export interface ArchivedFile {
  key: string;
  day: string;
  name: string;
  hour: number;
  firstSeqInName: number;
  bytes: Buffer;
  frames: RawFrame[];
}

/** Every `.jsonl.gz` under `raw/<env>/<feed>/`, gunzipped and decoded (throws on invalid gzip). */
export async function readArchiveFiles(blockDir: string, env: string, feed: string): Promise<ArchivedFile[]> {
  const root = path.join(blockDir, 'raw', env, feed);
  const out: ArchivedFile[] = [];
  const days = await fsp.readdir(root).catch(() => [] as string[]);
  for (const day of days.sort()) {
    for (const name of (await fsp.readdir(path.join(root, day))).sort()) {
      if (!name.endsWith('.jsonl.gz')) continue;
      const bytes = await fsp.readFile(path.join(root, day, name));
      const text = bytes.length === 0 ? '' : gunzipSync(bytes).toString('utf8');
      const lines = text === '' ? [] : text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      const m = /^(\d\d)-(\d+)\.jsonl\.gz$/.exec(name);
      if (!m) throw new Error(`unexpected file name ${day}/${name}`);
      out.push({ key: `raw/${env}/${feed}/${day}/${name}`, day, name, hour: Number(m[1]), firstSeqInName: Number(m[2]), bytes, frames: lines.map((l) => decodeArchiveLine(env, feed, l)) });
    }
  }
  return out;
}

export async function readManifests(blockDir: string, env: string, feed: string): Promise<Manifest[]> {
  const root = path.join(blockDir, 'raw', env, feed);
  const out: Manifest[] = [];
  for (const day of (await fsp.readdir(root).catch(() => [] as string[])).sort()) {
    const text = await fsp.readFile(path.join(root, day, 'manifest.json'), 'utf8').catch(() => undefined);
    if (text !== undefined) out.push(JSON.parse(text) as Manifest);
  }
  return out;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function utcDayHour(ns: bigint): { day: string; hour: number } {
  const d = new Date(Number(ns / NS_PER_MS));
  return { day: d.toISOString().slice(0, 10), hour: d.getUTCHours() };
}

/**
 * The archive holds exactly the published frames: every journal seq once, byte-exact, each in a
 * file of its receive day and hour, in journal order within a file, and the manifests list
 * exactly the files on disk with correct counts and checksums. Returns the files.
 */
export async function verifyArchive(o: {
  blockDir: string;
  env: string;
  feed: string;
  published: ReadonlyMap<number, RawFrame>;
  /** Every file on disk must be listed by a manifest (true after closeDay of every day). */
  allClosed?: boolean;
}): Promise<{ files: ArchivedFile[]; manifests: Manifest[] }> {
  const files = await readArchiveFiles(o.blockDir, o.env, o.feed);
  const manifests = await readManifests(o.blockDir, o.env, o.feed);
  const seen = new Map<number, string>();
  for (const f of files) {
    let prev = 0;
    if (f.frames.length > 0 && f.frames[0]!.journalSeq !== f.firstSeqInName) throw new Error(`${f.key}: first frame is journal seq ${f.frames[0]!.journalSeq}, name says ${f.firstSeqInName}`);
    for (const fr of f.frames) {
      const seq = fr.journalSeq!;
      if (seq <= prev) throw new Error(`${f.key}: journal seq ${seq} after ${prev}`);
      prev = seq;
      if (seen.has(seq)) throw new Error(`journal seq ${seq} is in ${seen.get(seq)} and ${f.key}`);
      seen.set(seq, f.key);
      const want = o.published.get(seq);
      if (!want) throw new Error(`${f.key}: journal seq ${seq} was never published`);
      if (!Buffer.from(fr.bytes).equals(Buffer.from(want.bytes))) throw new Error(`${f.key}: bytes of seq ${seq} differ`);
      if (fr.conn !== want.conn || fr.connSeq !== want.connSeq || fr.recvNs !== want.recvNs || fr.type !== want.type || fr.symbol !== want.symbol || fr.shard !== want.shard) {
        throw new Error(`${f.key}: metadata of seq ${seq} differs`);
      }
      const at = utcDayHour(fr.recvNs);
      if (at.day !== f.day || at.hour !== f.hour) throw new Error(`${f.key}: seq ${seq} received ${at.day} ${at.hour}h`);
    }
  }
  for (const seq of o.published.keys()) if (!seen.has(seq)) throw new Error(`journal seq ${seq} is missing from the archive`);
  if (seen.size !== o.published.size) throw new Error(`archive holds ${seen.size} frames, ${o.published.size} published`);

  const listed = new Set<string>();
  for (const m of manifests) {
    for (const e of m.files) {
      const key = `raw/${o.env}/${o.feed}/${m.day}/${e.name}`;
      listed.add(key);
      const f = files.find((x) => x.key === key);
      if (!f) throw new Error(`manifest ${m.day} lists ${e.name}, which is not on disk`);
      const conns: Record<string, { firstSeq: number; lastSeq: number; frames: number }> = {};
      for (const fr of f.frames) {
        const c = conns[fr.conn];
        if (c) {
          c.lastSeq = fr.connSeq;
          c.frames++;
        } else conns[fr.conn] = { firstSeq: fr.connSeq, lastSeq: fr.connSeq, frames: 1 };
      }
      const got = {
        sha256: sha256(f.bytes), bytes: f.bytes.length, lines: f.frames.length, firstJournalSeq: f.frames[0]?.journalSeq, lastJournalSeq: f.frames.at(-1)?.journalSeq,
        firstRecvNs: f.frames[0]?.recvNs.toString(), lastRecvNs: f.frames.at(-1)?.recvNs.toString(), connections: conns,
      };
      const want = { sha256: e.sha256, bytes: e.bytes, lines: e.lines, firstJournalSeq: e.firstJournalSeq, lastJournalSeq: e.lastJournalSeq, firstRecvNs: e.firstRecvNs, lastRecvNs: e.lastRecvNs, connections: e.connections };
      if (canonical(got) !== canonical(want)) throw new Error(`manifest entry ${m.day}/${e.name} ${JSON.stringify(want)} does not match the file ${JSON.stringify(got)}`);
    }
  }
  if (o.allClosed) for (const f of files) if (!listed.has(f.key)) throw new Error(`${f.key} is on disk but in no manifest`);
  return { files, manifests };
}

/** Published frames by journal sequence. */
export function bySeq(frames: readonly RawFrame[], seqs: readonly number[]): Map<number, RawFrame> {
  return new Map(seqs.map((s, i) => [s, frames[i]!]));
}

/** JSON with object keys sorted, for comparisons that must not depend on insertion order. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val !== null && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : val,
  );
}
