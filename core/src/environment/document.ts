/**
 * The YAML side of environment files, shared by load, keyrefs and edit: parsing with positions, path syntax, and
 * "which line:col is this path at".
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

export type PathSegment = string | number;

/** A YAML document with the line counter that maps its offsets to 1-based line:col. */
export interface ParsedYaml {
  doc: Document;
  lines: LineCounter;
}

/** Parses YAML text keeping the document (comments, positions); duplicate keys are errors. */
export function parseYaml(text: string): ParsedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines, uniqueKeys: true });
  return { doc, lines };
}

/** Renders `['feeds', 1, 'channels', 0]` as `feeds[1].channels[0]` (`` for the root). */
export function renderPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/**
 * Parses a path as rendered by {@link renderPath} (`feeds[1].channels[0]`); dotted indices (`feeds.1`) work too.
 * Returns undefined when the text is not a path.
 */
export function parsePath(path: string): PathSegment[] | undefined {
  if (path === '') return [];
  const out: PathSegment[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[\]]+)?((?:\[\d+\])*)$/.exec(part);
    if (m === null || (m[1] === undefined && m[2] === '')) return undefined;
    if (m[1] !== undefined) out.push(/^\d+$/.test(m[1]) ? Number(m[1]) : m[1]);
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

function nodeAt(doc: Document, path: readonly PathSegment[]): Node | undefined {
  const node: unknown = path.length === 0 ? doc.contents : doc.getIn(path, true);
  return node !== null && typeof node === 'object' && 'range' in node ? (node as Node) : undefined;
}

/**
 * 1-based line:col of the node at `path`. A missing node is located at its nearest existing ancestor (the map a key
 * is missing from). With `key`, locates that key inside the map at `path` (for unknown keys).
 */
export function positionIn(
  parsed: ParsedYaml,
  path: readonly PathSegment[],
  key?: string,
): { line: number; col: number } | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = nodeAt(parsed.doc, path.slice(0, n));
    if (node?.range == null) continue;
    if (key !== undefined && n === path.length && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      const keyNode = pair?.key;
      if (isScalar(keyNode) && keyNode.range) return parsed.lines.linePos(keyNode.range[0]);
    }
    return parsed.lines.linePos(node.range[0]);
  }
  return undefined;
}

function contains(node: unknown, offset: number): boolean {
  const r = (node as Node | null)?.range;
  return r != null && r[0] <= offset && offset < r[2];
}

/** Path of the deepest node (or map key) containing `offset`; used to name the path of a YAML error. */
export function pathAtOffset(doc: Document, offset: number): PathSegment[] {
  const path: PathSegment[] = [];
  let node: unknown = doc.contents;
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((p) => contains(p.key, offset) || contains(p.value, offset));
      if (pair === undefined || !isScalar(pair.key)) return path;
      path.push(String(pair.key.value));
      if (contains(pair.key, offset)) return path;
      node = pair.value;
    } else if (isSeq(node)) {
      const i = node.items.findIndex((v) => contains(v, offset));
      if (i < 0) return path;
      path.push(i);
      node = node.items[i];
    } else {
      return path;
    }
  }
}
