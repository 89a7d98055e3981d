/**
 * A scriptable editor for environment files (M2): text in, new text out, comments and layout kept. Every result is
 * re-validated, so an edit never introduces an error; the CLI does the file I/O.
 *
 * Paths are dotted, as in issues: `day.start`, `middleware.journal`, `profile.memory_mb`, `feeds[0].channels`.
 * Under `feeds` and `calendars` an entry can also be addressed by its name: `feeds.kalshi.shards.max_per_connection`
 * (a feed's name defaults to its venue), `calendars.us-holidays.holidays`.
 */
import { isMap, isScalar, isSeq, visit, type Document, type Node } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { parsePath, parseYaml, renderPath, type PathSegment } from './document.js';
import { validateEnvironment } from './load.js';

const OUTPUT = { flowCollectionPadding: false, lineWidth: 0 } as const;

function fail(file: string, path: string, expected: string, got: string): never {
  throw new ConfigError([{ file, path, expected, got }]);
}

/** Name of each entry of the keyed lists, as used in paths. */
const KEYED: Record<string, (entry: Node) => unknown> = {
  feeds: (e) => (isMap(e) ? (e.get('name') ?? e.get('feed')) : undefined),
  calendars: (e) => (isMap(e) ? e.get('name') : undefined),
};

function entryNames(doc: Document, list: string): string[] {
  const seq = doc.get(list, true);
  const nameOf = KEYED[list];
  if (!isSeq(seq) || nameOf === undefined) return [];
  return seq.items.map((e) => String(nameOf(e as Node)));
}

/** Turns a user path into document segments, resolving `feeds.<name>` / `calendars.<name>` to an index. */
function resolvePath(doc: Document, file: string, path: string): PathSegment[] {
  const segs = parsePath(path);
  if (segs === undefined || segs.length === 0) {
    fail(file, path, 'a path such as day.start or feeds.kalshi.channels', JSON.stringify(path));
  }
  const [head, second] = segs;
  if (typeof head === 'string' && typeof second === 'string' && head in KEYED) {
    const names = entryNames(doc, head);
    const index = names.indexOf(second);
    if (index < 0) {
      const expected = `the name of an entry of ${head} (names: ${names.join(', ')})`;
      fail(file, `${head}.${second}`, expected, JSON.stringify(second));
    }
    segs[1] = index;
  }
  return segs;
}

function withoutPosition({ line: _line, col: _col, ...rest }: ConfigIssue): ConfigIssue {
  return rest;
}

/** Applies `change` to the document and returns the new text if it introduces no validation issue. */
function edit(text: string, file: string, change: (doc: Document) => void): string {
  const { doc } = parseYaml(text);
  const before = validateEnvironment(text, file);
  if (doc.errors.length > 0 || !isMap(doc.contents)) throw new ConfigError(before.issues);
  change(doc);
  const out = doc.toString(OUTPUT);
  const after = validateEnvironment(out, file);
  // Issues already in the input do not block an edit (that would make a broken file impossible to repair by edits);
  // positions are dropped because they refer to text the caller has not seen.
  const known = new Set(before.issues.map((i) => `${i.path}\n${i.expected}`));
  const introduced = after.issues.filter((i) => !known.has(`${i.path}\n${i.expected}`));
  if (introduced.length > 0) {
    throw new ConfigError(introduced.map(withoutPosition));
  }
  return out;
}

/** Runs a yaml Document operation, turning its errors (e.g. a path through a scalar) into a ConfigError at `path`. */
function at<T>(file: string, path: string, op: () => T): T {
  try {
    return op();
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    return fail(file, path, 'a path inside mappings and lists', e instanceof Error ? e.message : String(e));
  }
}

/** Parses a command-line value as YAML: `1024` is a number, `"1024"` a string, `[a, b]` a list. */
function parseValue(file: string, path: string, raw: string): Node {
  const { doc } = parseYaml(raw);
  const err = doc.errors[0];
  if (err !== undefined) fail(file, path, 'a YAML value, e.g. 1024, "08:00" or [a, b]', err.message);
  return (doc.contents ?? doc.createNode(null)) as Node;
}

/**
 * Sets several values at once (all-or-nothing), e.g. `[['day.start', '20:00'], ['day.end', '06:00']]`.
 * Missing parent keys are created. A scalar replaced by a scalar keeps its quoting and comments.
 * @throws ConfigError naming the path when the result would be invalid; the input text is never modified.
 */
export function setValues(text: string, file: string, assignments: ReadonlyArray<readonly [string, string]>): string {
  return edit(text, file, (doc) => {
    for (const [path, raw] of assignments) {
      const segs = resolvePath(doc, file, path);
      const value = parseValue(file, path, raw);
      const old = doc.getIn(segs, true);
      if (isScalar(old) && isScalar(value)) {
        if (typeof old.value !== 'string' || typeof value.value !== 'string') old.type = value.type;
        old.value = value.value;
      } else {
        const parent = doc.getIn(segs.slice(0, -1), true);
        const last = segs.at(-1);
        if (isSeq(parent) && typeof last === 'number' && last >= parent.items.length) {
          fail(file, path, `an index below ${parent.items.length}`, String(last));
        }
        at(file, path, () => doc.setIn(segs, value));
      }
    }
  });
}

/**
 * Sets one value: `setValue(text, file, 'profile.memory_mb', '1024')` stores the number 1024.
 * @throws ConfigError naming the path when the result would be invalid.
 */
export function setValue(text: string, file: string, path: string, rawValue: string): string {
  return setValues(text, file, [[path, rawValue]]);
}

/**
 * Removes a key or list entry (so its default applies, if it has one).
 * @throws ConfigError when the path is not set or the result would be invalid (e.g. `unsetValue(.., 'name')`).
 */
export function unsetValue(text: string, file: string, path: string): string {
  return edit(text, file, (doc) => {
    const segs = resolvePath(doc, file, path);
    if (!at(file, path, () => doc.hasIn(segs))) fail(file, path, 'a key that is set', 'nothing');
    at(file, path, () => doc.deleteIn(segs));
  });
}

/**
 * Appends a feed, e.g. `{ feed: 'kraken', select: { pairs: ['BTC/USD'] }, channels: ['trade'] }`; short lists are
 * written in flow style.
 * @throws ConfigError when its name (default: its venue) is taken, or the feed is invalid (paths `feeds[<n>]...`).
 */
export function addFeed(text: string, file: string, feed: Record<string, unknown>): string {
  return edit(text, file, (doc) => {
    const names = entryNames(doc, 'feeds');
    const name = feed['name'] ?? feed['feed'];
    if (typeof name === 'string' && names.includes(name)) {
      const expected = `a feed name not already used (names: ${names.join(', ')})`;
      fail(file, `feeds[${names.length}].name`, expected, JSON.stringify(name));
    }
    const node = doc.createNode(feed);
    visit(node, {
      Seq(_, seq) {
        if (seq.items.every((i) => isScalar(i))) seq.flow = true;
      },
    });
    if (isSeq(doc.get('feeds', true))) doc.addIn(['feeds'], node);
    else doc.set('feeds', doc.createNode([node]));
  });
}

/**
 * Removes the feed with this name.
 * @throws ConfigError when there is no such feed, or when it is the only one.
 */
export function removeFeed(text: string, file: string, name: string): string {
  return edit(text, file, (doc) => {
    const segs = resolvePath(doc, file, `feeds.${name}`);
    if (entryNames(doc, 'feeds').length === 1) {
      const expected = 'another feed to remain (an environment needs at least one; add one first)';
      fail(file, renderPath(segs), expected, `the only feed ${JSON.stringify(name)}`);
    }
    doc.deleteIn(segs);
  });
}

export interface InitOptions {
  /** Environment name (slug). */
  name: string;
  /** IANA zone of the day; default UTC. */
  timezone?: string;
  /** HH:MM; default "00:00". */
  start?: string;
  /** HH:MM; default "24:00" (a full day). */
  end?: string;
  /** Calendar name; default every-day. */
  calendar?: string;
  /** true (default): middleware in-process/local, no servers; false: JetStream, NATS, Redis, S3, Temporal. */
  embedded?: boolean;
  /** File name used in error messages; default `<name>.yaml`. */
  file?: string;
}

/** A YAML scalar for `v`: plain when that reads back as the same string, else double-quoted. */
function scalar(v: string): string {
  const { doc } = parseYaml(v);
  return doc.errors.length === 0 && doc.toJS() === v && !v.includes('#') ? v : JSON.stringify(v);
}

/**
 * Text of a new, valid, commented environment file with one Kraken feed (no credentials needed).
 * @throws ConfigError when an option is invalid (path names it, e.g. `day.timezone`).
 */
export function initEnvironment(opts: InitOptions): string {
  const embedded = opts.embedded ?? true;
  const name = scalar(opts.name);
  const middleware = embedded
    ? `# Middleware implementations; embedded: everything in this process and on local disk.
middleware:
  journal: local # or jetstream (needs servers.nats)
  transport: memory # or nats (needs servers.nats) or mqtt (needs servers.mqtt)
  cache: memory # or redis (needs servers.redis)
  storage: local # or s3 (needs storage.s3)
  scheduler: local # or temporal (needs servers.temporal)

# Where files go.
storage:
  block: .ssmd/data # local directory for raw files, manifests and datasets
`
    : `# Middleware implementations and the servers they use. Add credentials: key:<name> where a server needs auth.
middleware:
  journal: jetstream
  transport: nats
  cache: redis
  storage: s3
  scheduler: temporal
servers:
  nats: {url: nats://127.0.0.1:4222}
  redis: {url: redis://127.0.0.1:6379}
  temporal: {address: 127.0.0.1:7233, namespace: default}

# Where files go: a local directory, then the S3 archive (add endpoint: http://... for an S3-compatible server).
storage:
  block: .ssmd/data
  s3: {bucket: ssmd-archive, prefix: ${scalar(`${opts.name}/`)}, region: us-east-1}
`;
  const text = `# ssmd environment ${name}, written by \`ssmd env init\`.
# Change it with \`ssmd env set <path> <value>\` rather than by hand; \`ssmd env validate\` checks it.
# Secrets never go here: every credentials field names a key in the key store (key:<name>).
name: ${name}

# The trading day: the environment comes up at start and is torn down at end, in local time of the timezone.
day:
  timezone: ${scalar(opts.timezone ?? 'UTC')}
  start: ${JSON.stringify(opts.start ?? '00:00')} # HH:MM, 24h
  end: ${JSON.stringify(opts.end ?? '24:00')} # HH:MM; "24:00" is midnight at the end of the day
  overnight: false # true lets end be before start (a day that crosses midnight)
  calendar: ${scalar(opts.calendar ?? 'every-day')} # every-day, weekdays, or one declared under calendars

# What to capture: one entry per feed; name defaults to the venue. Other venues, for example:
#   - {feed: kalshi, select: {series: [KXBTCD]}, channels: [ticker, trade], credentials: key:kalshi-prod}
#   - {feed: polymarket, select: {tags: [crypto]}, channels: [book, price_change, last_trade_price]}
feeds:
  - feed: kraken
    select: {pairs: [BTC/USD, ETH/USD]}
    channels: [ticker, trade, book]
    book_depth: 10
    transport: ws # or echidna (libechidna through native/; falls back to ws when not installed)

${middleware}
# Fixed memory profile of every job.
profile:
  memory_mb: 512
  batch_rows: 50000
  buffer_mb: 64
`;
  const result = validateEnvironment(text, opts.file ?? `${opts.name}.yaml`);
  if (result.issues.length > 0) throw new ConfigError(result.issues.map(withoutPosition));
  return text;
}
