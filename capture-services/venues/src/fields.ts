/** Typed, tolerant reads of one venue object, collecting reasons instead of throwing. */
import type { SecmasterEntity } from '../../../catalog/src/secmaster/entities.js';
import type { InstrumentRow, Mapped } from './secmaster-sync.js';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 40))}` : typeof v;
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INT32 = 2 ** 31;

/**
 * Reads the fields of one venue object, accepting every documented representation (decimals as numbers or strings,
 * times as RFC 3339 or epoch s/ms, booleans or "true"/"false") and collecting a reason for anything else.
 * Absent, null and (for non-text fields) empty values read as null.
 */
export class FieldReader {
  readonly problems: string[] = [];

  constructor(private readonly obj: Readonly<Record<string, unknown>>) {}

  /** A required identifier: a non-empty string (or, with `numbers`, a safe integer, as Gamma ids may be). */
  key(name: string, opts: { numbers?: boolean } = {}): string | undefined {
    const v = this.obj[name];
    if (typeof v === 'string' && v.trim() !== '' && !v.includes('\u0000')) return v;
    if (opts.numbers && typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    this.problems.push(v === undefined || v === null || v === '' ? `missing ${name}` : `${name}: expected a non-empty string, got ${kindOf(v)}`);
    return undefined;
  }

  text(name: string): string | null {
    const v = this.obj[name];
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') {
      if (!v.includes('\u0000')) return v;
      this.problems.push(`${name}: contains a NUL character`);
      return null;
    }
    return this.#bad(name, 'a string', v);
  }

  /** Exact decimal text: strings are kept as sent; numbers become their shortest round-trip text. */
  decimal(name: string): string | null {
    const v = this.obj[name];
    if (v === undefined || v === null || v === '') return null;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (typeof v === 'string' && DECIMAL.test(v.trim())) return v.trim();
    return this.#bad(name, 'a decimal number or string', v);
  }

  integer(name: string): number | null {
    const v = this.obj[name];
    if (v === undefined || v === null || v === '') return null;
    const n = typeof v === 'string' && /^[+-]?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n === 'number' && Number.isInteger(n) && Math.abs(n) < INT32) return n;
    return this.#bad(name, 'an integer', v);
  }

  bool(name: string): boolean | null {
    const v = this.obj[name];
    if (v === undefined || v === null || v === '') return null;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    return this.#bad(name, 'a boolean', v);
  }

  /** RFC 3339 text, or epoch seconds (Kalshi) / milliseconds (values above 1e11) as a number. */
  time(name: string): Date | null {
    const v = this.obj[name];
    if (v === undefined || v === null || v === '') return null;
    if (typeof v === 'number' && Number.isFinite(v)) return new Date(Math.abs(v) > 1e11 ? v : v * 1000);
    if (typeof v === 'string') {
      const ms = Date.parse(v);
      if (!Number.isNaN(ms)) return new Date(ms);
    }
    return this.#bad(name, 'an RFC 3339 time or epoch number', v);
  }

  /** Any JSON value, shaped by `map` (which returns undefined to reject it); Postgres jsonb refuses NUL characters. */
  json<T>(name: string, map: (v: unknown) => T | undefined, expected: string): T | null {
    const v = this.obj[name];
    if (v === undefined || v === null) return null;
    const out = map(v);
    if (out === undefined) return this.#bad(name, expected, v);
    if (JSON.stringify(out).includes('\\u0000')) {
      this.problems.push(`${name}: contains a NUL character`);
      return null;
    }
    return out;
  }

  /** Add a problem found by the caller. */
  fail(reason: string): void {
    this.problems.push(reason);
  }

  /** `row` (read through this reader) when its key was readable and nothing was wrong, else the reasons. */
  done<E extends SecmasterEntity>(key: string | undefined, row: InstrumentRow<E>): Mapped<E> {
    if (key !== undefined && this.problems.length === 0) return { ok: true, row };
    return { ok: false, ...(key === undefined ? {} : { key }), reason: this.problems.join('; ') || 'invalid' };
  }

  #bad(name: string, expected: string, got: unknown): null {
    this.problems.push(`${name}: expected ${expected}, got ${kindOf(got)}`);
    return null;
  }
}

/** An array of strings as is; a string array encoded as a JSON string (Gamma) parsed; anything else undefined. */
export function stringList(v: unknown): string[] | undefined {
  let list = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  return Array.isArray(list) && list.every((x) => typeof x === 'string') ? (list as string[]) : undefined;
}
