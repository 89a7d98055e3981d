/**
 * Structural diff of two environments, for `ssmd env diff` and `plan` (M2).
 *
 * Rules:
 * - mappings are compared key by key (keys in the order of `b`, then keys only in `a`);
 * - `feeds` and `calendars` are matched by name, not position: path `feeds.kalshi`, as in setValue paths;
 * - every list of scalars is a set (channels, series, events, markets, tags, slugs, condition_ids, token_ids, pairs,
 *   weekdays, holidays): reordering is no change, and each element added or removed is one op on the list's path
 *   (`after` / `before` is the element);
 * - anything else that differs is one `change` with `before` and `after`.
 */
import type { Environment } from './schema.js';

export interface EnvironmentChange {
  op: 'add' | 'remove' | 'change';
  /** Dotted path; named entries by name, e.g. `feeds.kalshi.channels`. */
  path: string;
  before?: unknown;
  after?: unknown;
}

const KEYED_LISTS = new Set(['feeds', 'calendars']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isScalarList(v: unknown): v is unknown[] {
  return Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object');
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function byName(list: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!Array.isArray(list)) return out;
  for (const e of list) if (isPlainObject(e)) out.set(String(e['name']), e);
  return out;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function walk(path: string, key: string, a: unknown, b: unknown, out: EnvironmentChange[]): void {
  if (a === undefined && b === undefined) return;
  if (KEYED_LISTS.has(key) && path === key) {
    const before = byName(a);
    const after = byName(b);
    for (const [name, v] of after) walk(join(path, name), name, before.get(name), v, out);
    for (const [name, v] of before) if (!after.has(name)) out.push({ op: 'remove', path: join(path, name), before: v });
    return;
  }
  if (a === undefined) {
    out.push({ op: 'add', path, after: b });
  } else if (b === undefined) {
    out.push({ op: 'remove', path, before: a });
  } else if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...Object.keys(b), ...Object.keys(a).filter((k) => !(k in b))];
    for (const k of keys) walk(join(path, k), k, a[k], b[k], out);
  } else if (isScalarList(a) && isScalarList(b)) {
    for (const x of b) if (!a.includes(x)) out.push({ op: 'add', path, after: x });
    for (const x of a) if (!b.includes(x)) out.push({ op: 'remove', path, before: x });
  } else if (!same(a, b)) {
    out.push({ op: 'change', path, before: a, after: b });
  }
}

/**
 * What changes going from `a` to `b` (`a` null: everything in `b` is added, feeds one op each).
 * Deterministic: the same inputs always give the same ops in the same order.
 */
export function diffEnvironments(a: Environment | null, b: Environment): EnvironmentChange[] {
  const out: EnvironmentChange[] = [];
  const before: Record<string, unknown> = a ?? {};
  const after: Record<string, unknown> = b;
  const keys = [...Object.keys(after), ...Object.keys(before).filter((k) => !(k in after))];
  for (const k of keys) walk(k, k, before[k], after[k], out);
  return out;
}
