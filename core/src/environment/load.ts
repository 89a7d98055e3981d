/**
 * Loading an environment file: YAML (with positions) -> zod -> a frozen Environment, or a ConfigError listing every
 * issue with file, line:col, path, expected and got (M2). No side effects besides reading the file.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isMap } from 'yaml';
import type { z } from 'zod';
import { ConfigError, NotFoundError, type ConfigIssue } from '../errors.js';
import { parseYaml, pathAtOffset, positionIn, renderPath, type ParsedYaml, type PathSegment } from './document.js';
import { EnvironmentSchema, type Environment } from './schema.js';

const GOT_MAX = 60;

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'nothing (null)',
};

/** Plain-words "expected" for zod's built-in issues; schema-level messages take precedence over this map. */
function expectedFor(iss: z.core.$ZodRawIssue): string {
  switch (iss.code) {
    case 'invalid_type':
      return TYPE_WORDS[iss.expected] ?? `a ${iss.expected}`;
    case 'invalid_value':
      return iss.values.length === 1 ? JSON.stringify(iss.values[0]) : `one of ${iss.values.map(String).join('|')}`;
    case 'invalid_union':
      return 'options' in iss && Array.isArray(iss.options) ? `one of ${iss.options.join('|')}` : 'a valid value';
    case 'too_small':
      return bound('at least', '>=', '>', iss.origin, Number(iss.minimum), iss.inclusive);
    case 'too_big':
      return bound('at most', '<=', '<', iss.origin, Number(iss.maximum), iss.inclusive);
    case 'invalid_format':
      return iss.format === 'regex' ? `text matching ${iss.pattern ?? 'the pattern'}` : `a valid ${iss.format}`;
    case 'not_multiple_of':
      return `a multiple of ${iss.divisor}`;
    case 'unrecognized_keys':
      return 'no unknown keys';
    default:
      return 'a valid value';
  }
}

function bound(words: string, incl: string, excl: string, origin: string, n: number, inclusive?: boolean): string {
  if (origin === 'array') return `${words} ${n} item${n === 1 ? '' : 's'}`;
  if (origin === 'string') return n === 1 && words === 'at least' ? 'a non-empty string' : `${words} ${n} characters`;
  return `a number ${inclusive === false ? excl : incl} ${n}`;
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let v = data;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PathSegment, unknown>)[seg];
  }
  return v;
}

/** Renders a found value for `got`: JSON, at most 60 characters; never echoes a secret. */
export function renderGot(value: unknown, path: readonly PathSegment[] = []): string {
  if (value === undefined) return 'nothing';
  if (path.at(-1) === 'credentials' && !(typeof value === 'string' && value.startsWith('key:'))) {
    return `an inline value (${typeof value === 'string' ? `${value.length} characters, ` : ''}not shown)`;
  }
  const shown = typeof value === 'string' ? value.replace(/\/\/[^/@\s]*@/, '//***@') : value;
  const json = JSON.stringify(shown) ?? String(shown);
  return json.length > GOT_MAX ? `${json.slice(0, GOT_MAX - 1)}…` : json;
}

function yamlIssues(parsed: ParsedYaml, file: string): ConfigIssue[] {
  return [...parsed.doc.errors, ...parsed.doc.warnings].map((e) => {
    const pos = parsed.lines.linePos(e.pos[0]);
    if (e.code === 'DUPLICATE_KEY') {
      const path = pathAtOffset(parsed.doc, e.pos[0]);
      const got = `duplicate key ${JSON.stringify(String(path.at(-1) ?? ''))}`;
      return { file, ...pos, path: renderPath(path), expected: 'each key once in a mapping', got };
    }
    return { file, ...pos, path: '', expected: 'valid YAML', got: e.message };
  });
}

function zodIssues(error: z.ZodError, parsed: ParsedYaml, data: unknown, file: string): ConfigIssue[] {
  return error.issues.flatMap((iss) => {
    const path = iss.path.map((s) => (typeof s === 'number' ? s : String(s)));
    if (iss.code === 'unrecognized_keys') {
      return iss.keys.map((k) => ({
        file,
        ...positionIn(parsed, path, k),
        path: renderPath([...path, k]),
        expected: iss.message,
        got: `unknown key ${JSON.stringify(k)}`,
      }));
    }
    // a custom issue about something missing may name a better place to point at than the enclosing map
    const anchor: unknown = iss.code === 'custom' ? iss.params?.['anchor'] : undefined;
    const at = Array.isArray(anchor) && valueAt(data, path) === undefined ? (anchor as PathSegment[]) : path;
    const got = renderGot(valueAt(data, path), path);
    return [{ file, ...positionIn(parsed, at), path: renderPath(path), expected: iss.message, got }];
  });
}

function byPosition(a: ConfigIssue, b: ConfigIssue): number {
  return (a.line ?? Infinity) - (b.line ?? Infinity) || (a.col ?? 0) - (b.col ?? 0);
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

export type ValidationResult = { env: Environment; issues: [] } | { env: undefined; issues: ConfigIssue[] };

/** Validates environment YAML without throwing: the environment, or every issue sorted by line. */
export function validateEnvironment(text: string, file: string): ValidationResult {
  const parsed = parseYaml(text);
  const syntax = yamlIssues(parsed, file);
  if (syntax.length > 0) return { env: undefined, issues: syntax.sort(byPosition) };
  const expected = 'a mapping with name, day and feeds (`ssmd env init` writes one)';
  const root = { file, line: 1, col: 1, path: '', expected };
  if (parsed.doc.contents === null) return { env: undefined, issues: [{ ...root, got: 'an empty file' }] };
  let data: unknown;
  try {
    data = parsed.doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    const got = e instanceof Error ? e.message : String(e);
    return { env: undefined, issues: [{ ...root, expected: 'valid YAML', got }] };
  }
  if (!isMap(parsed.doc.contents)) {
    return { env: undefined, issues: [{ ...root, ...positionIn(parsed, []), got: renderGot(data) }] };
  }
  const result = EnvironmentSchema.safeParse(data, { error: expectedFor });
  if (result.success) return { env: deepFreeze(result.data), issues: [] };
  return { env: undefined, issues: zodIssues(result.error, parsed, data, file).sort(byPosition) };
}

/**
 * Parses and validates environment YAML. Returns the environment with defaults applied, deeply frozen.
 * @throws ConfigError with every issue (file, line:col, path, expected, got), sorted by line.
 */
export function parseEnvironment(text: string, file: string): Environment {
  const result = validateEnvironment(text, file);
  if (result.env === undefined) throw new ConfigError(result.issues);
  return result.env;
}

/**
 * Reads and validates an environment file. `sha256` is of the file's bytes, for recording what was applied.
 * @throws NotFoundError when the file does not exist; ConfigError when it is invalid.
 */
export async function loadEnvironmentFile(
  path: string,
): Promise<{ env: Environment; text: string; file: string; sha256: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new NotFoundError(`environment file not found: ${path}`, { cause: e });
  }
  const text = bytes.toString('utf8');
  const env = parseEnvironment(text, path);
  return { env, text, file: path, sha256: createHash('sha256').update(bytes).digest('hex') };
}
