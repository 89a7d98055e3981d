/**
 * Where raw day files live (block storage and object storage use the same relative keys):
 *
 *   raw/<env>/<feed>/<yyyy-mm-dd>/<hh>-<firstJournalSeq>.jsonl.gz   one archive line per frame
 *   raw/<env>/<feed>/<yyyy-mm-dd>/manifest.json                     the day's manifest
 *
 * `<yyyy-mm-dd>` and `<hh>` are the UTC day and hour of the frames' receive time (`recvNs`);
 * `<firstJournalSeq>` is the journal sequence of the file's first frame, so a file name is unique
 * within a stream and a re-run after a crash re-creates the same name for the same frames.
 *
 * Object keys are these same relative paths, env segment included (`raw/<env>/...`), below the
 * store's own environment prefix: one mapping for both storages, and a file fetched from S3 lands
 * at the same relative path on block storage.
 */
import path from 'node:path';
import { ArchiverConfigError } from './errors.js';

/** Raw files are gzip: Node 20's zlib has no zstd (that needs Node >= 22.15), and gzip is what DuckDB and every tool read. */
export const RAW_EXT = '.jsonl.gz';
export const MANIFEST_NAME = 'manifest.json';

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const NS_PER_MS = 1_000_000n;
const NS_PER_HOUR = 3_600_000_000_000n;

/** Throws unless `value` is usable as one path segment and object-key segment. */
export function assertSegment(what: string, value: string): void {
  if (!SEGMENT.test(value)) {
    throw new ArchiverConfigError(`${what} ${JSON.stringify(value)} cannot be a path segment: use 1-128 characters of [A-Za-z0-9_.-], not starting with . _ or -`);
  }
}

/** UTC hour bucket of a receive time: the day label, the hour (0-23) and the bucket's end in ns. */
export interface HourBucket {
  day: string;
  hour: number;
  startNs: bigint;
  endNs: bigint;
}

/** The UTC day and hour of `recvNs` (ns since the epoch). */
export function hourBucket(recvNs: bigint): HourBucket {
  const startNs = floorDiv(recvNs, NS_PER_HOUR) * NS_PER_HOUR;
  const d = new Date(Number(startNs / NS_PER_MS));
  return { day: d.toISOString().slice(0, 10), hour: d.getUTCHours(), startNs, endNs: startNs + NS_PER_HOUR };
}

/** UTC day label of `recvNs`. */
export function utcDay(recvNs: bigint): string {
  return hourBucket(recvNs).day;
}

/** The end (exclusive) of `day`'s hour `hour`, in ns. */
export function hourEndNs(day: string, hour: number): bigint {
  return BigInt(Date.parse(`${day}T00:00:00Z`)) * NS_PER_MS + BigInt(hour + 1) * NS_PER_HOUR;
}

/** Days from `from` to `to` inclusive (at most `max`), as labels. */
export function daysBetween(from: string, to: string, max = 31): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`); t <= end && out.length < max; t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

export function isDayLabel(day: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
}

/** `<hh>-<firstJournalSeq>.jsonl.gz` */
export function rawFileName(hour: number, firstJournalSeq: number): string {
  return `${String(hour).padStart(2, '0')}-${firstJournalSeq}${RAW_EXT}`;
}

/** Relative path / object key of a file of a day: `raw/<env>/<feed>/<day>/<name>`. */
export function dayKey(env: string, feed: string, day: string, name: string): string {
  return `raw/${env}/${feed}/${day}/${name}`;
}

/** Absolute path on block storage of a relative key. */
export function blockPath(blockDir: string, key: string): string {
  return path.join(blockDir, ...key.split('/'));
}

/** Directory on block storage holding a feed's days. */
export function feedDir(blockDir: string, env: string, feed: string): string {
  return path.join(blockDir, 'raw', env, feed);
}

/** Parse a key written by `dayKey` back into its day and file name (undefined for other keys). */
export function parseDayKey(env: string, feed: string, key: string): { day: string; name: string } | undefined {
  const prefix = `raw/${env}/${feed}/`;
  if (!key.startsWith(prefix)) return undefined;
  const [day, name, ...rest] = key.slice(prefix.length).split('/');
  if (day === undefined || name === undefined || rest.length > 0) return undefined;
  return { day, name };
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}
