/**
 * The archiver's tunables, with their defaults, parsed once at the process edge (style lesson 14).
 * Library callers pass them to `openArchiver`; a service entry reads them from the environment with
 * `loadArchiverTunables(process.env)` and passes the frozen result down.
 */
import { z } from 'zod';
import { ConfigError } from '../../../core/src/errors.js';

const MiB = 1024 * 1024;

export const archiverTunablesSchema = z.strictObject({
  /** Rotate a file when the next line would take it past this many uncompressed bytes (default 64 MiB; env SSMD_ARCHIVER_MAX_FILE_BYTES). */
  maxFileBytes: z.number().int().min(1024).default(64 * MiB),
  /** Commit (end the gzip member, fsync, checkpoint) after this many frames (default 10 000; env SSMD_ARCHIVER_COMMIT_EVERY). */
  commitEvery: z.number().int().min(1).default(10_000),
  /** ...or after this long since the last commit, whichever comes first (default 1 s; env SSMD_ARCHIVER_COMMIT_INTERVAL_MS). */
  commitIntervalMs: z.number().int().min(1).default(1_000),
  /**
   * An hour's file is closed once a frame received this long after the hour's end arrives (or, when
   * idle, once the clock passes that point), so frames from connections whose clocks or queues lag a
   * little still land in the right file (default 10 s; env SSMD_ARCHIVER_HOUR_GRACE_MS).
   */
  hourGraceMs: z.number().int().min(0).default(10_000),
  /**
   * `run` restarts its journal consumer when the stream is known to hold messages past the last one
   * archived and none arrived for this long (a consumer wedged after a server restart) (default 15 s;
   * env SSMD_ARCHIVER_CONSUMER_STALL_MS).
   */
  consumerStallMs: z.number().int().min(100).default(15_000),
});

export type ArchiverTunables = z.output<typeof archiverTunablesSchema>;
export type ArchiverTunablesInput = z.input<typeof archiverTunablesSchema>;

const ENV_KEYS = {
  maxFileBytes: 'SSMD_ARCHIVER_MAX_FILE_BYTES',
  commitEvery: 'SSMD_ARCHIVER_COMMIT_EVERY',
  commitIntervalMs: 'SSMD_ARCHIVER_COMMIT_INTERVAL_MS',
  hourGraceMs: 'SSMD_ARCHIVER_HOUR_GRACE_MS',
  consumerStallMs: 'SSMD_ARCHIVER_CONSUMER_STALL_MS',
} as const satisfies Record<keyof ArchiverTunables, string>;

/** Validate tunables (defaults filled in) and freeze them; ConfigError naming the field otherwise. */
export function parseArchiverTunables(input: ArchiverTunablesInput, source = 'openArchiver options'): Readonly<ArchiverTunables> {
  const r = archiverTunablesSchema.safeParse(input);
  if (!r.success) {
    throw new ConfigError(r.error.issues.map((i) => ({ file: source, path: i.path.join('.'), expected: i.message, got: JSON.stringify(pick(input, i.path)) ?? 'nothing' })));
  }
  return Object.freeze(r.data);
}

/** Tunables from `SSMD_ARCHIVER_*` variables (unset ones take their defaults). */
export function loadArchiverTunables(env: Record<string, string | undefined>): Readonly<ArchiverTunables> {
  const input: Record<string, number> = {};
  for (const [field, name] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v !== undefined && v !== '') input[field] = Number(v);
  }
  return parseArchiverTunables(input, 'environment (SSMD_ARCHIVER_*)');
}

function pick(obj: unknown, p: readonly PropertyKey[]): unknown {
  let cur = obj;
  for (const k of p) cur = cur !== null && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  return cur;
}
