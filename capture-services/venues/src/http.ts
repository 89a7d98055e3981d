/**
 * Shared REST plumbing for the venues' secmaster sync (`<venue>/instruments.ts`):
 *
 * 1. `fetchJson` / `RestClient`: GET JSON over the global `fetch`, retrying 429 (after max(minRetryMs,
 *    Retry-After), exponential backoff with jitter, on the injected Clock) and 5xx / network errors; any other
 *    4xx fails at once with the body's message.
 * 2. `cursorPages` / `offsetPages`: the two pagination styles (Kalshi cursor, Gamma offset).
 *
 * The sync machinery is in `secmaster-sync.ts`, the tolerant field readers in `fields.ts`.
 */
import { SsmdError } from '../../../core/src/errors.js';
import type { Clock } from '../../../core/src/middleware/clock.js';
import { isRecord, kindOf } from './fields.js';

// ---------------------------------------------------------------------------------------------------------------
// 1. fetchJson
// ---------------------------------------------------------------------------------------------------------------

/** protocols.md (Kalshi REST): a 429 is retried after max(5 s, Retry-After) with exponential backoff, up to 10 attempts. */
export const DEFAULT_MAX_ATTEMPTS = 10;
export const DEFAULT_MIN_RETRY_MS = 5_000;
/** Cap of one backoff step (our choice), so 10 attempts take minutes, not an hour. Retry-After is still honoured. */
export const DEFAULT_MAX_RETRY_MS = 60_000;
/** Time allowed for one response, headers and body (our choice). */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface RetryOptions {
  /** Attempts in all, the first included (default 10). */
  maxAttempts?: number;
  /** Shortest wait before a retry (default 5 s; tests pass a few ms). */
  minRetryMs?: number;
  /** Longest backoff step (default 60 s); a longer Retry-After is still honoured. */
  maxRetryMs?: number;
  /** Per-attempt timeout (default 30 s). */
  timeoutMs?: number;
}

/** A venue error carried inside a 2xx body (Kraken answers `{"error":["EAPI:Rate limit exceeded"]}` with 200). */
export interface BodyProblem {
  message: string;
  /** false: fail at once (like a 4xx); true: retry like a 429. */
  retryable: boolean;
}

export interface FetchJsonOptions extends RetryOptions {
  /** Sleeps between retries run on this clock (a SimulatedClock makes backoff instant in tests). */
  clock: Clock;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  bodyError?: (body: unknown) => BodyProblem | undefined;
  /** Jitter source in [0, 1) (default Math.random). */
  random?: () => number;
}

/** A REST call that failed for good. `url` has query secrets and passwords masked. */
export class HttpError extends SsmdError {
  readonly url: string;
  /** The last HTTP status, undefined after a network error or timeout. */
  readonly status: number | undefined;
  readonly attempts: number;
  /** Whether the last failure was of a retryable kind (429, 5xx, network) that ran out of attempts. */
  readonly retryable: boolean;
  constructor(message: string, o: { url: string; status: number | undefined; attempts: number; retryable: boolean; cause?: unknown }) {
    super(message, { code: 'HTTP_ERROR', cause: o.cause });
    this.url = o.url;
    this.status = o.status;
    this.attempts = o.attempts;
    this.retryable = o.retryable;
  }
}

type Attempt =
  | { ok: true; body: unknown }
  | { ok: false; retryable: boolean; status?: number; message: string; retryAfterMs?: number; cause?: unknown };

const SECRET_PARAM = /key|token|secret|signature|sig$|password|passwd|auth|credential/i;

/** The URL as it may be shown: password and secret-looking query values replaced by `***`. */
export function safeUrl(url: string | URL): string {
  const u = new URL(url);
  if (u.password !== '') u.password = '***';
  for (const name of new Set(u.searchParams.keys())) if (SECRET_PARAM.test(name)) u.searchParams.set(name, '***');
  return u.toString();
}

/**
 * GET `url` and parse its JSON body. 429, 5xx, network errors, timeouts and unparsable 2xx bodies are retried up
 * to `maxAttempts`; a 429 waits at least max(minRetryMs, Retry-After), doubling per attempt (capped at
 * maxRetryMs, never below Retry-After), plus up to 10% jitter. Any other 4xx fails at once with the body's message.
 * An abort of `signal` rejects with its reason and is never retried.
 */
export async function fetchJson<T = unknown>(url: string | URL, opts: FetchJsonOptions): Promise<T> {
  const target = new URL(url);
  const shown = safeUrl(target);
  const maxAttempts = Math.max(1, Math.floor(opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    const a = await attemptOnce(target, opts);
    if (a.ok) return a.body as T;
    const status = a.status === undefined ? '' : ` (last status ${a.status})`;
    if (!a.retryable) {
      throw new HttpError(`GET ${shown} failed${status}: ${a.message}`, { url: shown, status: a.status, attempts: attempt, retryable: false, cause: a.cause });
    }
    if (attempt >= maxAttempts) {
      throw new HttpError(`GET ${shown} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}${status}: ${a.message}`, {
        url: shown, status: a.status, attempts: attempt, retryable: true, cause: a.cause,
      });
    }
    await opts.clock.sleep(retryDelayMs(attempt, a.retryAfterMs, opts), opts.signal);
  }
}

/** Wait before retry number `attempt` (1 = after the first failure). */
export function retryDelayMs(attempt: number, retryAfterMs: number | undefined, opts: RetryOptions & { random?: () => number }): number {
  const min = Math.max(0, opts.minRetryMs ?? DEFAULT_MIN_RETRY_MS);
  const cap = Math.max(min, opts.maxRetryMs ?? DEFAULT_MAX_RETRY_MS);
  const after = Math.max(0, retryAfterMs ?? 0);
  const step = Math.min(cap, Math.max(min, after) * 2 ** (attempt - 1));
  const wait = Math.max(step, after);
  return wait + Math.floor(wait * 0.1 * (opts.random ?? Math.random)());
}

async function attemptOnce(url: URL, opts: FetchJsonOptions): Promise<Attempt> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal === undefined ? timeout : AbortSignal.any([opts.signal, timeout]);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...opts.headers }, signal });
    text = await res.text();
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? err;
    const message = timeout.aborted ? `no complete response within ${timeoutMs} ms` : `network error: ${causeText(err)}`;
    return { ok: false, retryable: true, message, cause: err };
  }
  if (res.status === 429 || res.status >= 500) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), opts.clock.now());
    return { ok: false, retryable: true, status: res.status, message: `HTTP ${res.status}${suffix(bodyMessage(text))}`, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  if (!res.ok) return { ok: false, retryable: false, status: res.status, message: `HTTP ${res.status}${suffix(bodyMessage(text) ?? res.statusText)}` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return { ok: false, retryable: true, status: res.status, message: `the body is not valid JSON (${text.length} bytes)`, cause: err };
  }
  const problem = opts.bodyError?.(body);
  if (problem !== undefined) return { ok: false, retryable: problem.retryable, status: res.status, message: problem.message };
  return { ok: true, body };
}

const suffix = (s: string | undefined): string => (s ? `: ${s}` : '');

function causeText(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return [e?.message ?? String(err), e?.cause?.code ?? e?.cause?.message].filter(Boolean).join(': ');
}

/** Retry-After as delta seconds or an HTTP date, in ms from `nowMs`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** The human message of a venue error body: Kalshi `{error:{message}}`, Gamma `{error:"…"}`, Kraken `{error:["…"]}`. */
export function bodyMessage(text: string): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    const t = text.trim().slice(0, 200);
    return t === '' ? undefined : t;
  }
  if (isRecord(v)) {
    const e = v.error ?? v.message ?? v.errors;
    if (typeof e === 'string') return e;
    if (Array.isArray(e)) return e.map(String).join('; ');
    if (isRecord(e)) return [e.code, e.message].filter((x) => typeof x === 'string' && x !== '').join(': ') || JSON.stringify(e).slice(0, 200);
  }
  return JSON.stringify(v).slice(0, 200);
}

/** A base URL plus the shared fetch options, with optional spacing between calls (protocols.md: Kalshi 300 ms). */
export class RestClient {
  #nextAt = Number.NEGATIVE_INFINITY;
  readonly #base: string;

  constructor(baseUrl: string, private readonly opts: FetchJsonOptions & { spacingMs?: number }) {
    this.#base = new URL(baseUrl).toString().replace(/\/+$/, '');
  }

  url(path: string, query: Readonly<Record<string, string | number | boolean | undefined>> = {}): URL {
    const u = new URL(`${this.#base}${path.startsWith('/') ? path : `/${path}`}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u;
  }

  async get<T = unknown>(path: string, query?: Readonly<Record<string, string | number | boolean | undefined>>): Promise<T> {
    const wait = this.#nextAt - this.opts.clock.now();
    if (wait > 0) await this.opts.clock.sleep(wait, this.opts.signal);
    this.#nextAt = this.opts.clock.now() + (this.opts.spacingMs ?? 0);
    return fetchJson<T>(this.url(path, query), this.opts);
  }
}

/** A response that is valid JSON but not the shape the venue documents: the run fails, it is not retried. */
export class UnexpectedResponseError extends SsmdError {
  constructor(message: string) {
    super(message, { code: 'UNEXPECTED_RESPONSE' });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Pagination
// ---------------------------------------------------------------------------------------------------------------

/**
 * Cursor pagination (Kalshi): yields `body[itemsKey]` page by page until `cursor` is empty or missing. A cursor
 * that repeats the one just sent fails instead of looping forever.
 */
export async function* cursorPages(
  rest: RestClient, path: string, query: Readonly<Record<string, string | number | boolean | undefined>>, itemsKey: string,
): AsyncGenerator<unknown[]> {
  let cursor: string | undefined;
  for (;;) {
    const body = await rest.get(path, { ...query, cursor });
    if (!isRecord(body)) throw new UnexpectedResponseError(`GET ${path}: expected an object with ${itemsKey}[] and cursor, got ${kindOf(body)}`);
    const items = body[itemsKey] ?? [];
    if (!Array.isArray(items)) throw new UnexpectedResponseError(`GET ${path}: expected ${itemsKey} to be an array, got ${kindOf(items)}`);
    yield items;
    const next = body.cursor;
    if (typeof next !== 'string' || next === '') return;
    if (next === cursor) throw new UnexpectedResponseError(`GET ${path}: the cursor did not advance (${next})`);
    cursor = next;
  }
}

/**
 * Offset pagination (Gamma): `limit` and `offset`, the body a JSON array; stops at the first page shorter than
 * `limit` (protocols.md). The offset advances by the rows received, so a server that caps lower never skips rows.
 */
export async function* offsetPages(
  rest: RestClient, path: string, query: Readonly<Record<string, string | number | boolean | undefined>>, limit: number,
): AsyncGenerator<unknown[]> {
  for (let offset = 0; ;) {
    const body = await rest.get(path, { ...query, limit, offset });
    if (!Array.isArray(body)) throw new UnexpectedResponseError(`GET ${path}: expected a JSON array, got ${kindOf(body)}`);
    yield body;
    if (body.length < limit || body.length === 0) return;
    offset += body.length;
  }
}
