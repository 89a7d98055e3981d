/** A REST answer built by a venue handler; the base server writes it. */
export interface RestReply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** A venue's REST routes: `path` is relative to the REST base (e.g. `/markets/KX-1`). */
export type RestHandler = (path: string, query: URLSearchParams) => RestReply | undefined;

export function json(status: number, value: unknown): RestReply {
  return { status, body: JSON.stringify(value) };
}

/** An integer query parameter, `fallback` when absent; NaN when present but not an integer. */
export function intParam(query: URLSearchParams, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  return /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
}

/** `true`/`false` query parameter, undefined when absent or anything else. */
export function boolParam(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  return undefined;
}

/** Comma-separated list parameter (empty when absent). */
export function listParam(query: URLSearchParams, name: string): string[] {
  const raw = query.get(name);
  if (raw === null || raw === '') return [];
  return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Opaque cursor for cursor pagination: the offset of the next page. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

export function decodeCursor(cursor: string | null): number | undefined {
  if (cursor === null || cursor === '') return 0;
  const m = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  return m === null ? undefined : Number(m[1]);
}
