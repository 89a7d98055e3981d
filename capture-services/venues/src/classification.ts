/**
 * What a venue classifier says about one raw frame. It becomes the RawFrame's `type` and `symbol` and routes the
 * frame to its subject; the frame's bytes are kept whatever the verdict.
 *
 * - `data`: market data; `type` is the venue's message type, `symbol` the instrument;
 * - `control`: acks, subscription results, status;
 * - `heartbeat`: keepalive answers (`PONG`, Kraken `pong` and `heartbeat`);
 * - `error`: the venue reports an error;
 * - `unknown`: valid JSON (or text) of a shape the classifier does not know (`type` is `unknown`);
 * - `malformed`: not JSON, not UTF-8, too large, or a known message whose fields have the wrong types
 *   (`type` is `malformed`, `detail` says why).
 */
export interface Classification {
  kind: 'data' | 'control' | 'heartbeat' | 'error' | 'unknown' | 'malformed';
  type: string;
  /** Instrument; `_` when none. */
  symbol: string;
  /** Exchange sequence (Kalshi `sid` / `seq`, on data messages that carry both). */
  exSeq?: { sid: number; seq: number };
  /** Why a frame is `malformed` or `unknown`. */
  detail?: string;
}

export const NO_SYMBOL = '_';

export function malformed(detail: string): Classification {
  return { kind: 'malformed', type: 'malformed', symbol: NO_SYMBOL, detail };
}

export function unknown(detail: string): Classification {
  return { kind: 'unknown', type: 'unknown', symbol: NO_SYMBOL, detail };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode a frame as UTF-8 text, or say why it is malformed (empty, over `maxBytes`, not UTF-8). */
export function decodeText(bytes: Uint8Array, maxBytes: number): string | Classification {
  if (bytes.length === 0) return malformed('empty frame');
  if (bytes.length > maxBytes) return malformed(`frame of ${bytes.length} bytes is over the ${maxBytes}-byte limit`);
  try {
    return utf8.decode(bytes);
  } catch {
    return malformed('not UTF-8');
  }
}

/** Parse JSON text, or say it is malformed. */
export function parseJson(text: string): { value: unknown } | Classification {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return malformed(`invalid JSON (${text.length} chars)`);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** s string, n number, b boolean, a array, o object, sn string or number; `!` marks a required field. */
type FieldType = 's' | 'n' | 'b' | 'a' | 'o' | 'sn';
export type Spec = Readonly<Record<string, FieldType | `${FieldType}!`>>;

function typeOk(v: unknown, t: FieldType): boolean {
  switch (t) {
    case 's':
      return typeof v === 'string';
    case 'n':
      return typeof v === 'number';
    case 'b':
      return typeof v === 'boolean';
    case 'a':
      return Array.isArray(v);
    case 'o':
      return isObject(v);
    case 'sn':
      return typeof v === 'string' || typeof v === 'number';
  }
}

/**
 * Check the fields a spec lists (others are allowed: venues add fields). Returns the first problem, or undefined.
 * `null` counts as absent for optional fields.
 */
export function checkSpec(o: Record<string, unknown>, spec: Spec, where = ''): string | undefined {
  for (const [key, rule] of Object.entries(spec)) {
    const required = rule.endsWith('!');
    const t = (required ? rule.slice(0, -1) : rule) as FieldType;
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) return `${where}${key} is missing`;
      continue;
    }
    if (!typeOk(v, t)) return `${where}${key} should be ${t}, got ${Array.isArray(v) ? 'array' : typeof v}`;
  }
  return undefined;
}

/** Check every element of an array field against a spec (elements must be objects). */
export function checkEach(list: unknown, spec: Spec, where: string): string | undefined {
  if (!Array.isArray(list)) return undefined;
  for (let i = 0; i < list.length; i++) {
    const e: unknown = list[i];
    if (!isObject(e)) return `${where}[${i}] should be an object`;
    const bad = checkSpec(e, spec, `${where}[${i}].`);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** A non-empty string, or the `_` placeholder. */
export function symbolOf(...candidates: unknown[]): string {
  for (const c of candidates) if (typeof c === 'string' && c !== '') return c;
  return NO_SYMBOL;
}

/**
 * Split instruments into shards of at most `maxPerShard`, in order, without duplicates (the first occurrence
 * wins). 450 with 200 per shard → 200, 200, 50.
 */
export function shardList<T>(items: readonly T[], maxPerShard: number): T[][] {
  if (!Number.isInteger(maxPerShard) || maxPerShard < 1) throw new RangeError(`maxPerShard must be a positive integer, got ${maxPerShard}`);
  const unique = [...new Set(items)];
  const shards: T[][] = [];
  for (let i = 0; i < unique.length; i += maxPerShard) shards.push(unique.slice(i, i + maxPerShard));
  return shards;
}
