/**
 * The manifest of one (environment, feed, UTC day): `raw/<env>/<feed>/<day>/manifest.json`.
 *
 * ```json
 * {
 *   "version": 1, "env": "lab", "feed": "kalshi", "day": "2026-11-29",
 *   "files": [{
 *     "name": "14-1200.jsonl.gz", "sha256": "<hex of the closed gzip file>", "bytes": 81234, "lines": 700,
 *     "firstJournalSeq": 1200, "lastJournalSeq": 1899, "firstRecvNs": "1764424800000000000", "lastRecvNs": "…",
 *     "connections": { "kalshi-0-…-1": { "firstSeq": 10, "lastSeq": 709, "frames": 700 } },
 *     "uploaded": true
 *   }],
 *   "gaps": [
 *     { "kind": "journal", "fromJournalSeq": 51, "toJournalSeq": 80, "missing": 30, "afterRecvNs": "…", "beforeRecvNs": "…" },
 *     { "kind": "connection", "conn": "…", "fromConnSeq": 7, "toConnSeq": 9, "missing": 3, "journalSeq": 1234, "afterRecvNs": "…", "beforeRecvNs": "…" }
 *   ],
 *   "complete": false
 * }
 * ```
 *
 * Only closed files are listed, ordered by `firstJournalSeq`; receive times are decimal strings (ns
 * do not fit a JSON number). `uploaded` turns true once the object store holds the file with the
 * same sha256. `complete` turns true when the day is closed (`closeDay`) and back to false if a
 * late frame for the day is archived afterwards. Written atomically (temp file, fsync, rename).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../../core/src/fsutil.js';
import { MANIFEST_NAME } from './layout.js';
import { Mutex } from './mutex.js';
import { mkdirDurable } from './raw-file.js';

export interface ConnectionRange {
  firstSeq: number;
  lastSeq: number;
  frames: number;
}

export interface ManifestFile {
  name: string;
  sha256: string;
  bytes: number;
  lines: number;
  firstJournalSeq: number;
  lastJournalSeq: number;
  firstRecvNs: string;
  lastRecvNs: string;
  connections: Record<string, ConnectionRange>;
  uploaded: boolean;
}

export interface JournalGap {
  kind: 'journal';
  fromJournalSeq: number;
  toJournalSeq: number;
  missing: number;
  /** Receive time of the last frame archived before the gap (null when none). */
  afterRecvNs: string | null;
  /** Receive time of the first frame archived after the gap. */
  beforeRecvNs: string;
}

export interface ConnectionGap {
  kind: 'connection';
  conn: string;
  fromConnSeq: number;
  toConnSeq: number;
  missing: number;
  /** Journal sequence of the frame after the gap. */
  journalSeq: number;
  afterRecvNs: string | null;
  beforeRecvNs: string;
}

export type ManifestGap = JournalGap | ConnectionGap;

export interface Manifest {
  version: 1;
  env: string;
  feed: string;
  day: string;
  files: ManifestFile[];
  gaps: ManifestGap[];
  complete: boolean;
}

/** A change to a day's manifest, recorded in the checkpoint before it is applied (so it can be re-applied). */
export type ManifestOp =
  | { op: 'file'; day: string; file: ManifestFile }
  | { op: 'gap'; day: string; gap: ManifestGap }
  | { op: 'complete'; day: string }
  | { op: 'reopen'; day: string };

export function emptyManifest(env: string, feed: string, day: string): Manifest {
  return { version: 1, env, feed, day, files: [], gaps: [], complete: false };
}

/** Read a manifest; undefined when the file does not exist. */
export async function readManifest(file: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as Manifest;
}

/** The manifest's bytes as written (stable key order, one trailing newline). */
export function manifestBytes(m: Manifest): Buffer {
  return Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
}

export async function writeManifest(file: string, m: Manifest): Promise<{ sha256: string; size: number }> {
  return writeFileAtomic(file, manifestBytes(m));
}

/** Apply `op` in place; idempotent (re-applying a file or gap entry changes nothing). Returns whether anything changed. */
export function applyOp(m: Manifest, op: ManifestOp): boolean {
  switch (op.op) {
    case 'file': {
      const i = m.files.findIndex((f) => f.name === op.file.name);
      const old = i >= 0 ? m.files[i] : undefined;
      const next: ManifestFile = { ...op.file, uploaded: old !== undefined && old.sha256 === op.file.sha256 ? old.uploaded : false };
      if (old !== undefined && JSON.stringify(old) === JSON.stringify(next)) return false;
      if (i >= 0) m.files[i] = next;
      else m.files.push(next);
      m.files.sort((a, b) => a.firstJournalSeq - b.firstJournalSeq);
      return true;
    }
    case 'gap': {
      const key = JSON.stringify(op.gap);
      if (m.gaps.some((g) => JSON.stringify(g) === key)) return false;
      m.gaps.push(op.gap);
      return true;
    }
    case 'complete':
      if (m.complete) return false;
      m.complete = true;
      return true;
    case 'reopen':
      if (!m.complete) return false;
      m.complete = false;
      return true;
  }
}

/** The manifests of one feed on block storage, with read-modify-write serialized. */
export class ManifestStore {
  readonly #dir: (day: string) => string;
  readonly #env: string;
  readonly #feed: string;
  readonly #lock = new Mutex();

  constructor(o: { env: string; feed: string; dayDir: (day: string) => string }) {
    this.#env = o.env;
    this.#feed = o.feed;
    this.#dir = o.dayDir;
  }

  path(day: string): string {
    return path.join(this.#dir(day), MANIFEST_NAME);
  }

  /** The day's manifest, or an empty one when none was written. */
  async read(day: string): Promise<Manifest> {
    return (await readManifest(this.path(day))) ?? emptyManifest(this.#env, this.#feed, day);
  }

  /** Exists on block storage? */
  async exists(day: string): Promise<boolean> {
    return (await readManifest(this.path(day))) !== undefined;
  }

  /**
   * Change the day's manifest with `fn` (returns whether it changed anything) and write it
   * atomically when it did, or when it did not exist yet. Returns whether a write happened.
   */
  update(day: string, fn: (m: Manifest) => boolean): Promise<boolean> {
    return this.#lock.run(async () => {
      const file = this.path(day);
      const current = await readManifest(file);
      const m = current ?? emptyManifest(this.#env, this.#feed, day);
      const changed = fn(m);
      if (!changed && current !== undefined) return false;
      await mkdirDurable(path.dirname(file));
      await writeManifest(file, m);
      return true;
    });
  }
}
