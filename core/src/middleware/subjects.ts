/**
 * Subject, stream and topic naming, defined once (M4, M12).
 *
 * A raw frame's subject is `<env>.<feed>.raw.<type>.<symbol>`. Every token is escaped so it is a
 * valid NATS token and a valid MQTT topic level: characters outside `[A-Za-z0-9_-]` become `~XX`
 * (UTF-8 bytes in upper-case hex), `~` included, so the mapping is reversible and two different
 * symbols never share a subject (`BTC/USD` -> `BTC~2FUSD`, `BTC-USD` stays `BTC-USD`).
 */

const SAFE = /^[A-Za-z0-9_-]$/;

/** Escape one token. An empty token becomes `~` (a token must not be empty). */
export function escapeToken(token: string): string {
  if (token === '') return '~';
  let out = '';
  for (const ch of token) {
    if (SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `~${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Reverse of `escapeToken`. */
export function unescapeToken(token: string): string {
  if (token === '~') return '';
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '~') {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(token.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The parts of a raw subject. */
export interface RawSubjectParts {
  env: string;
  feed: string;
  type: string;
  symbol: string;
}

export function rawSubject(p: RawSubjectParts): string {
  return [p.env, p.feed, 'raw', p.type, p.symbol].map(escapeToken).join('.');
}

export function parseRawSubject(subject: string): RawSubjectParts | undefined {
  const t = subject.split('.');
  if (t.length !== 5 || t[2] !== 'raw') return undefined;
  return { env: unescapeToken(t[0]!), feed: unescapeToken(t[1]!), type: unescapeToken(t[3]!), symbol: unescapeToken(t[4]!) };
}

/** Wildcard subject covering every raw frame of a feed in an environment. */
export function rawFeedFilter(env: string, feed: string): string {
  return `${escapeToken(env)}.${escapeToken(feed)}.raw.>`;
}

/** Wildcard subject covering one message type of a feed, every symbol. */
export function rawTypeFilter(env: string, feed: string, type: string): string {
  return `${[env, feed, 'raw', type].map(escapeToken).join('.')}.*`;
}

/** The stream that journals a feed's raw frames: `<ENV>_<FEED>_RAW` (stream names allow no dots). */
export function rawStreamName(env: string, feed: string): string {
  return `${escapeToken(env)}_${escapeToken(feed)}_RAW`.toUpperCase().replace(/~/g, 'X');
}

/**
 * Does `subject` match `pattern`? NATS wildcard rules: `*` matches exactly one token, `>` one or
 * more trailing tokens.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Is every subject matched by `covering` also matched by `pattern`? (wildcards in both) */
export function patternCovers(covering: string, pattern: string): boolean {
  const c = covering.split('.');
  const p = pattern.split('.');
  for (let i = 0; i < c.length; i++) {
    if (c[i] === '>') return p.length > i;
    if (i >= p.length) return false;
    if (p[i] === '>') return false;
    if (c[i] !== '*' && (p[i] === '*' || c[i] !== p[i])) return false;
  }
  return c.length === p.length;
}

/** The MQTT topic for a subject (tokens are already level-safe) and back. Wildcards map `*`->`+`, `>`->`#`. */
export function subjectToTopic(subject: string, prefix = 'ssmd'): string {
  return [prefix, ...subject.split('.').map((t) => (t === '*' ? '+' : t === '>' ? '#' : t))].join('/');
}

export function topicToSubject(topic: string, prefix = 'ssmd'): string {
  const levels = topic.split('/');
  if (levels[0] !== prefix) throw new Error(`topic ${topic} is outside the ${prefix}/ namespace`);
  return levels.slice(1).map((t) => (t === '+' ? '*' : t === '#' ? '>' : t)).join('.');
}
