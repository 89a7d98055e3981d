/**
 * The archiver's checkpoint: `checkpoints(job 'archive', scope '<env>/<feed>')`. It is the single
 * source of truth after a crash: every frame up to `journalSeq` is in a committed byte range of an
 * open file or in a closed file that a manifest lists (or that `pending` is about to list).
 *
 * ```json
 * { "v": 1, "stream": "LAB_KALSHI_RAW", "journalSeq": 1899,
 *   "open": [{ "file": "raw/lab/kalshi/2026-11-29/14-1200.jsonl.gz", "bytes": 81234, "lineCount": 700,
 *              "uncompressedBytes": 301234, "day": "2026-11-29", "hour": 14, "firstJournalSeq": 1200,
 *              "lastJournalSeq": 1899, "firstRecvNs": "…", "lastRecvNs": "…", "connections": {…} }],
 *   "conns": { "<conn>": { "lastSeq": 709, "lastRecvNs": "…" } },
 *   "maxRecvNs": "…", "pending": [<manifest ops not yet applied>], "unsettled": ["2026-11-29"] }
 * ```
 *
 * More than one file can be open (the previous hour stays open for the grace period), so the
 * file/bytes/lineCount of the brief are per entry of `open`.
 */
import { z } from 'zod';
import { ArchiverStateError } from './errors.js';
import type { ManifestOp } from './manifest.js';

const nsString = z.string().regex(/^-?\d+$/);
const connRange = z.strictObject({ firstSeq: z.number().int(), lastSeq: z.number().int(), frames: z.number().int().min(0) });

const openFileSchema = z.strictObject({
  file: z.string(),
  day: z.string(),
  hour: z.number().int().min(0).max(23),
  name: z.string(),
  bytes: z.number().int().min(0),
  lineCount: z.number().int().min(0),
  uncompressedBytes: z.number().int().min(0),
  firstJournalSeq: z.number().int(),
  lastJournalSeq: z.number().int(),
  firstRecvNs: nsString.nullable(),
  lastRecvNs: nsString.nullable(),
  connections: z.record(z.string(), connRange),
});

const gapSchema = z.union([
  z.strictObject({ kind: z.literal('journal'), fromJournalSeq: z.number().int(), toJournalSeq: z.number().int(), missing: z.number().int(), afterRecvNs: nsString.nullable(), beforeRecvNs: nsString }),
  z.strictObject({
    kind: z.literal('connection'), conn: z.string(), fromConnSeq: z.number().int(), toConnSeq: z.number().int(), missing: z.number().int(),
    journalSeq: z.number().int(), afterRecvNs: nsString.nullable(), beforeRecvNs: nsString,
  }),
]);

const manifestFileSchema = z.strictObject({
  name: z.string(), sha256: z.string(), bytes: z.number().int(), lines: z.number().int(), firstJournalSeq: z.number().int(), lastJournalSeq: z.number().int(),
  firstRecvNs: nsString, lastRecvNs: nsString, connections: z.record(z.string(), connRange), uploaded: z.boolean(),
});

const opSchema = z.union([
  z.strictObject({ op: z.literal('file'), day: z.string(), file: manifestFileSchema }),
  z.strictObject({ op: z.literal('gap'), day: z.string(), gap: gapSchema }),
  z.strictObject({ op: z.literal('complete'), day: z.string() }),
  z.strictObject({ op: z.literal('reopen'), day: z.string() }),
]);

export const checkpointSchema = z.strictObject({
  v: z.literal(1),
  stream: z.string(),
  journalSeq: z.number().int().min(0),
  open: z.array(openFileSchema),
  conns: z.record(z.string(), z.strictObject({ lastSeq: z.number().int(), lastRecvNs: nsString })),
  maxRecvNs: nsString.nullable(),
  pending: z.array(opSchema),
  unsettled: z.array(z.string()),
});

export type ArchiveCheckpoint = z.output<typeof checkpointSchema>;
export type OpenFileCheckpoint = z.output<typeof openFileSchema>;

// Compile-time check that the schema's ops are the manifest's ops.
const _sameOps: (o: z.output<typeof opSchema>) => ManifestOp = (o) => o;
void _sameOps;

export const CHECKPOINT_JOB = 'archive';

export function checkpointScope(env: string, feed: string): string {
  return `${env}/${feed}`;
}

/** Validate a stored position (the catalog returns it parsed, or as JSON text). */
export function parseCheckpoint(scope: string, position: unknown): ArchiveCheckpoint {
  const value = typeof position === 'string' ? JSON.parse(position) : position;
  const r = checkpointSchema.safeParse(value);
  if (!r.success) throw new ArchiverStateError(`checkpoint archive/${scope} is not a version-1 archive checkpoint: ${r.error.message}`, { cause: r.error });
  return r.data;
}
