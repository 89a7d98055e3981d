import { AuthError, ConfigError, NotFoundError, SsmdError } from '../../../core/src/errors.js';
import { redactor } from '../../../core/src/log/redact.js';

/** Where a command reads and writes; tests pass buffers, the bin passes the process. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<Buffer>;
  env: Record<string, string | undefined>;
  cwd: string;
  isTTY: boolean;
}

/** Exit codes, documented in `ssmd --help`. */
export const EXIT = { ok: 0, error: 1, config: 2, notFound: 3, auth: 4 } as const;

export function exitCodeOf(err: unknown): number {
  if (err instanceof ConfigError) return EXIT.config;
  if (err instanceof NotFoundError) return EXIT.notFound;
  if (err instanceof AuthError) return EXIT.auth;
  return EXIT.error;
}

/** Writes results as JSON (`--json`) or text; everything passes through the redactor. */
export class Output {
  constructor(private readonly io: CliIO, readonly json: boolean) {}

  /** Print a result: `data` as JSON, or the text rendering. */
  result(data: unknown, text: () => string): void {
    const out = this.json ? JSON.stringify(data, null, 2) : text();
    if (out) this.io.stdout(`${redactor.redact(out)}\n`);
  }

  /** Progress and notes for people; silent in JSON mode so stdout stays parseable. */
  note(text: string): void {
    if (!this.json) this.io.stderr(`${redactor.redact(text)}\n`);
  }

  error(err: unknown): void {
    if (this.json) {
      const body: Record<string, unknown> = { error: { code: err instanceof SsmdError ? err.code : 'ERROR', message: (err as Error)?.message ?? String(err) } };
      if (err instanceof ConfigError) (body.error as Record<string, unknown>).issues = err.issues;
      this.io.stdout(`${redactor.redact(JSON.stringify(body, null, 2))}\n`);
    } else {
      this.io.stderr(`${redactor.redact(`error: ${(err as Error)?.message ?? String(err)}`)}\n`);
    }
  }
}

/** Render rows as an aligned text table. */
export function table(input: ReadonlyArray<object>, columns: readonly string[]): string {
  const rows = input as ReadonlyArray<Record<string, unknown>>;
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) => (v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.join(',') : v === null || v === undefined ? '-' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}
