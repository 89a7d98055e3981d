/**
 * Key references (M10): an environment names keys (`credentials: key:<name>`) and never holds secrets. These helpers
 * list the names so a caller can check them against the key store and report a missing one at its file:line:col.
 */
import { parsePath, parseYaml, positionIn, renderPath, type PathSegment } from './document.js';
import type { Environment } from './schema.js';

/** One `key:<name>` reference found in an environment. */
export interface KeyRefUse {
  /** As written, e.g. `key:kalshi-prod`. */
  ref: string;
  /** The key-store name, e.g. `kalshi-prod`. */
  name: string;
  /** Where it is, e.g. `feeds[0].credentials`. */
  path: string;
}

/** Every key reference in the environment, in document order, with its path. */
export function collectKeyRefs(env: Environment): KeyRefUse[] {
  const out: KeyRefUse[] = [];
  const walk = (v: unknown, path: PathSegment[]): void => {
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, [...path, i]));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (k === 'credentials' && typeof child === 'string' && child.startsWith('key:')) {
          out.push({ ref: child, name: child.slice('key:'.length), path: renderPath([...path, k]) });
        } else {
          walk(child, [...path, k]);
        }
      }
    }
  };
  walk(env, []);
  return out;
}

/**
 * 1-based position of `path` (as rendered in issues, e.g. `feeds[0].credentials`) in environment YAML `text`, for
 * building a ConfigIssue: `{ ...positionOf(text, file, use.path), path: use.path, expected: ..., got: ... }`.
 * A missing path is located at its nearest existing parent; an unparsable path gives no line/col.
 */
export function positionOf(text: string, file: string, path: string): { file: string; line?: number; col?: number } {
  const segments = parsePath(path);
  if (segments === undefined) return { file };
  return { file, ...positionIn(parseYaml(text), segments) };
}
