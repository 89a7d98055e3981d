/**
 * The environment file schema (requirement M2): one YAML file declares a trading environment: its day (M3), its
 * feeds (markets and channels per venue), its middleware (M12) and the servers and key names those need (M10).
 *
 * Every object is strict: an unknown key is an error. Schema-level `error` strings are written as the "expected"
 * half of a ConfigIssue ("expected <message>, got <value>"); load.ts supplies the wording for zod's built-in issues.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------------------------
// Closed sets
// ---------------------------------------------------------------------------------------------------------------

export const VENUES = ['kalshi', 'polymarket', 'kraken'] as const;
export type Venue = (typeof VENUES)[number];

/**
 * Channels a feed may subscribe to, per venue (guide/protocols.md). Kalshi's `event_lifecycle` is a message type
 * that arrives on the `market_lifecycle_v2` channel, not a channel of its own, so it is not listed.
 */
export const CHANNELS = {
  kalshi: ['ticker', 'trade', 'orderbook_delta', 'market_lifecycle_v2'],
  polymarket: [
    'book',
    'price_change',
    'last_trade_price',
    'best_bid_ask',
    'tick_size_change',
    'new_market',
    'market_resolved',
  ],
  kraken: ['ticker', 'trade', 'book'],
} as const satisfies Record<Venue, readonly string[]>;
export type Channel<V extends Venue = Venue> = (typeof CHANNELS)[V][number];

/** Middleware implementations an environment can pick (M12); the second of each pair is the embedded one. */
export const MIDDLEWARE = {
  journal: ['jetstream', 'local'],
  transport: ['mqtt', 'nats', 'memory'],
  cache: ['redis', 'memory'],
  storage: ['s3', 'local'],
  scheduler: ['temporal', 'local'],
} as const;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** Calendars every environment knows without declaring them. */
export const BUILTIN_CALENDARS = ['every-day', 'weekdays'] as const;
export const KRAKEN_BOOK_DEPTHS = [10, 25, 100, 500, 1000] as const;
export const KALSHI_MARKET_STATUSES = ['unopened', 'open', 'closed', 'settled'] as const;

/** Per venue: the most instruments one connection (shard) may carry, and the default. */
export const SHARD_LIMITS = {
  kalshi: { max: 256, default: 200 }, // 256 market tickers per subscription; 200 per shard by default
  polymarket: { max: 500, default: 500 }, // 500 asset ids per connection
  kraken: { max: 1000, default: 100 }, // no documented cap; keep connections modest
} as const satisfies Record<Venue, { max: number; default: number }>;

// ---------------------------------------------------------------------------------------------------------------
// Small building blocks
// ---------------------------------------------------------------------------------------------------------------

const SLUG = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;
const KEY_REF = /^key:[a-z0-9][a-z0-9._-]{0,62}$/;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const HHMM_END = /^(([01]\d|2[0-3]):[0-5]\d|24:00)$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A strict object whose errors list the keys that are allowed. */
function strict<T extends z.ZodRawShape>(what: string, shape: T) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code === 'unrecognized_keys') return `a key of ${what} (${known})`;
      if (iss.code === 'invalid_type') return `a mapping (${what}: ${known})`;
      return undefined;
    },
  });
}

/** An integer in [min, max] with one clear message for every way it can be wrong. */
function intIn(min: number, max: number) {
  const error = `an integer from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** A list of scalars with no duplicates; a duplicate is reported at its second occurrence. */
function uniqueList<T extends z.ZodType>(item: T) {
  return z.array(item).superRefine((list, ctx) => {
    list.forEach((v, i) => {
      const first = list.indexOf(v);
      if (first === i) return;
      ctx.addIssue({ code: 'custom', path: [i], message: `a value not already listed (it is at [${first}])` });
    });
  });
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function isRealDate(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** A URL with one of the given schemes and no inline user:password (those go in `credentials`). */
function urlWith(schemes: string[]) {
  const error = `a ${schemes.map((s) => `${s}://`).join(' or ')} URL without user:password`;
  return z.string({ error }).refine(
    (s) => {
      try {
        const u = new URL(s);
        return schemes.includes(u.protocol.slice(0, -1)) && u.host !== '' && u.username === '' && u.password === '';
      } catch {
        return false;
      }
    },
    { error },
  );
}

/** A name in the key store, written `key:<name>`. Secrets are never written inline (M10, M19). */
export const KeyRefSchema = z
  .string({ error: 'a key reference key:<name>' })
  .regex(KEY_REF, { error: 'a key reference key:<name> (never an inline secret; store it with `ssmd keys add`)' })
  .brand<'KeyRef'>();
export type KeyRef = z.infer<typeof KeyRefSchema>;

// ---------------------------------------------------------------------------------------------------------------
// The trading day and calendars (M3)
// ---------------------------------------------------------------------------------------------------------------

export const DaySchema = strict('day', {
  /** IANA time zone the start and end are in. */
  timezone: z
    .string({ error: 'an IANA time zone such as America/New_York' })
    .refine(isTimeZone, { error: 'an IANA time zone such as America/New_York' }),
  /** When the environment comes up, HH:MM (24h) local time. */
  start: z.string({ error: 'HH:MM (24h), e.g. "08:00"' }).regex(HHMM, { error: 'HH:MM (24h), e.g. "08:00"' }),
  /** When it is torn down, HH:MM; "24:00" means midnight at the end of the day. */
  end: z.string({ error: 'HH:MM (24h), e.g. "20:00"' }).regex(HHMM_END, { error: 'HH:MM (24h), e.g. "20:00"' }),
  /** When true the day may end on the next calendar day (end before start). */
  overnight: z.boolean({ error: 'true or false' }).default(false),
  /** Which days run: a built-in calendar (every-day, weekdays) or one declared under `calendars`. */
  calendar: z.string({ error: 'a calendar name' }).default('every-day'),
}).superRefine((day, ctx) => {
  if (!HHMM.test(day.start) || !HHMM_END.test(day.end)) return; // already reported
  if (day.end === day.start) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: `HH:MM different from day.start (${day.start})` });
  } else if (day.end < day.start && !day.overnight) {
    ctx.addIssue({
      code: 'custom',
      path: ['end'],
      message: `HH:MM after day.start (${day.start}), or day.overnight: true`,
    });
  }
});

export const CalendarSchema = strict('a calendar', {
  /** Name used by `day.calendar`; must not shadow a built-in. */
  name: z
    .string({ error: 'a calendar name' })
    .regex(SLUG, { error: 'a name of 3-40 characters: a-z, 0-9 and -, starting with a letter' })
    .refine((n) => !(BUILTIN_CALENDARS as readonly string[]).includes(n), {
      error: `a name other than the built-ins (${BUILTIN_CALENDARS.join(', ')})`,
    }),
  /** Days of the week that run. */
  weekdays: uniqueList(z.enum(WEEKDAYS)).min(1),
  /** Dates (YYYY-MM-DD, in the day's time zone) that do not run. */
  holidays: uniqueList(
    z
      .string({ error: 'a date YYYY-MM-DD' })
      .regex(DATE, { error: 'a date YYYY-MM-DD' })
      .refine(isRealDate, { error: 'a real calendar date YYYY-MM-DD' }),
  ).default([]),
});

// ---------------------------------------------------------------------------------------------------------------
// Feeds: one discriminated union member per venue, so errors speak about the right venue
// ---------------------------------------------------------------------------------------------------------------

const feedName = z
  .string({ error: 'a feed name' })
  .regex(SLUG, { error: 'a feed name of 3-40 characters: a-z, 0-9 and -, starting with a letter' });

function channels<V extends Venue>(venue: V) {
  return uniqueList(z.enum(CHANNELS[venue])).min(1, { error: `at least one ${venue} channel` });
}

function shards(venue: Venue) {
  const { max, default: def } = SHARD_LIMITS[venue];
  return strict(`${venue} shards`, {
    /** Instruments per connection; more instruments open more connections. */
    max_per_connection: intIn(1, max).default(def),
  }).prefault({});
}

const kalshiTicker = z
  .string({ error: 'a Kalshi ticker' })
  .regex(/^[A-Z0-9][A-Z0-9._-]{0,99}$/, { error: 'a Kalshi ticker in capitals, e.g. KXBTCD' });

export const KalshiFeedSchema = strict('a kalshi feed', {
  /** The venue. */
  feed: z.literal('kalshi'),
  /** Unique name of this feed in the environment; defaults to the venue. */
  name: feedName.optional(),
  /** Which markets: empty lists mean no filter (every market with `status`). */
  select: strict('a kalshi select', {
    series: uniqueList(kalshiTicker).default([]),
    events: uniqueList(kalshiTicker).default([]),
    markets: uniqueList(kalshiTicker).default([]),
    status: z.enum(KALSHI_MARKET_STATUSES).default('open'),
  }).prefault({}),
  channels: channels('kalshi'),
  shards: shards('kalshi'),
  /** Kalshi API key id + RSA private key, by name in the key store (required: the WebSocket is signed). */
  credentials: KeyRefSchema,
});

export const PolymarketFeedSchema = strict('a polymarket feed', {
  feed: z.literal('polymarket'),
  name: feedName.optional(),
  /** Which markets, by Gamma tag slug, event/market slug, condition id or token id; empty = every active market. */
  select: strict('a polymarket select', {
    tags: uniqueList(z.string().regex(/^[a-z0-9][a-z0-9-]{0,199}$/, { error: 'a lower-case slug' })).default([]),
    slugs: uniqueList(z.string().regex(/^[a-z0-9][a-z0-9-]{0,199}$/, { error: 'a lower-case slug' })).default([]),
    condition_ids: uniqueList(
      z.string().regex(/^0x[0-9a-fA-F]{64}$/, { error: 'a condition id (0x + 64 hex digits)' }),
    ).default([]),
    token_ids: uniqueList(
      z.string({ error: 'a token id, quoted' }).regex(/^\d{1,100}$/, { error: 'a token id (decimal digits)' }),
    ).default([]),
    active: z.boolean({ error: 'true or false' }).default(true),
  }).prefault({}),
  channels: channels('polymarket'),
  shards: shards('polymarket'),
  /** Optional: the market channel needs no authentication. */
  credentials: KeyRefSchema.optional(),
});

export const KrakenFeedSchema = strict('a kraken feed', {
  feed: z.literal('kraken'),
  name: feedName.optional(),
  /** Spot pairs in WebSocket v2 form, e.g. "BTC/USD". */
  select: strict('a kraken select', {
    pairs: uniqueList(
      z.string({ error: 'a pair such as "BTC/USD"' }).regex(/^[A-Z0-9]{1,16}\/[A-Z0-9]{1,16}$/, {
        error: 'a pair such as "BTC/USD"',
      }),
    ).min(1, { error: 'at least one pair such as "BTC/USD"' }),
  }),
  channels: channels('kraken'),
  shards: shards('kraken'),
  credentials: KeyRefSchema.optional(),
  /** Network path: plain WebSocket, or libechidna through native/ (falls back to ws when not installed, M21). */
  transport: z.enum(['ws', 'echidna']).default('ws'),
  /** Book depth subscribed when `book` is among the channels. */
  book_depth: z.literal(KRAKEN_BOOK_DEPTHS).default(10),
});

const FeedInputSchema = z.discriminatedUnion('feed', [KalshiFeedSchema, PolymarketFeedSchema, KrakenFeedSchema], {
  error: (iss) => (iss.code === 'invalid_union' ? `one of ${VENUES.join('|')}` : undefined),
});

/** One feed, with `name` defaulted to the venue. */
export const FeedSchema = FeedInputSchema.transform((f) => ({ ...f, name: f.name ?? f.feed }));

const FeedsSchema = z
  .array(FeedInputSchema, { error: 'a list of feeds' })
  .min(1, { error: 'at least one feed' })
  .superRefine((feeds, ctx) => {
    const seen: string[] = [];
    feeds.forEach((f, i) => {
      const name = f.name ?? f.feed;
      if (seen.includes(name)) {
        ctx.addIssue({
          code: 'custom',
          // point at `name:` when given, else at `feed:` whose venue supplied the default name
          path: [i, f.name === undefined ? 'feed' : 'name'],
          message: `a feed name not already used (names: ${seen.join(', ')}); add name: to tell feeds apart`,
        });
      }
      seen.push(name);
    });
  })
  .transform((feeds) => feeds.map((f) => ({ ...f, name: f.name ?? f.feed })));

// ---------------------------------------------------------------------------------------------------------------
// Middleware, servers, storage, profile
// ---------------------------------------------------------------------------------------------------------------

export const MiddlewareSchema = strict('middleware', {
  /** Where raw frames are journaled: NATS JetStream or local segment files. */
  journal: z.enum(MIDDLEWARE.journal).default('local'),
  /** How live data reaches consumers: MQTT, NATS, or in-process. */
  transport: z.enum(MIDDLEWARE.transport).default('memory'),
  /** Cache (never pub/sub): Redis or in-memory LRU. */
  cache: z.enum(MIDDLEWARE.cache).default('memory'),
  /** Object storage for archives and datasets: S3 or a local directory. */
  storage: z.enum(MIDDLEWARE.storage).default('local'),
  /** Day start/teardown and jobs: Temporal or the local runner. */
  scheduler: z.enum(MIDDLEWARE.scheduler).default('local'),
}).prefault({});

export const ServersSchema = strict('servers', {
  nats: strict('servers.nats', { url: urlWith(['nats', 'tls']), credentials: KeyRefSchema.optional() }).optional(),
  mqtt: strict('servers.mqtt', {
    url: urlWith(['mqtt', 'mqtts', 'ws', 'wss']),
    credentials: KeyRefSchema.optional(),
  }).optional(),
  redis: strict('servers.redis', { url: urlWith(['redis', 'rediss']), credentials: KeyRefSchema.optional() }).optional(),
  temporal: strict('servers.temporal', {
    /** host:port of the Temporal frontend. */
    address: z
      .string({ error: 'host:port, e.g. 127.0.0.1:7233' })
      .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, { error: 'host:port, e.g. 127.0.0.1:7233' }),
    namespace: z.string().regex(/^[A-Za-z0-9._-]{1,255}$/, { error: 'a Temporal namespace' }).default('default'),
    credentials: KeyRefSchema.optional(),
  }).optional(),
}).prefault({});

export const StorageSchema = strict('storage', {
  /** Local directory for raw files, manifests and the dataset cache. */
  block: z.string({ error: 'a directory path' }).min(1, { error: 'a directory path' }).default('.ssmd/data'),
  /** The S3 (or S3-compatible) archive; required when middleware.storage is s3. */
  s3: strict('storage.s3', {
    bucket: z
      .string({ error: 'an S3 bucket name' })
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'an S3 bucket name (3-63 of a-z, 0-9, . and -)' }),
    /** Key prefix inside the bucket, e.g. "homelab/". */
    prefix: z.string().regex(/^(?!\/)[A-Za-z0-9!_.*'()/-]*$/, { error: 'a key prefix not starting with /' }).default(''),
    /** Endpoint of an S3-compatible server; omit for AWS. */
    endpoint: urlWith(['http', 'https']).optional(),
    region: z.string().regex(/^[a-z0-9-]{1,32}$/, { error: 'a region such as us-east-1' }).default('us-east-1'),
    credentials: KeyRefSchema.optional(),
  }).optional(),
}).prefault({});

/** Fixed memory profile for every job (M15). */
export const ProfileSchema = strict('profile', {
  /** Memory budget of one job, MiB. */
  memory_mb: intIn(64, 65536).default(512),
  /** Rows per batch when writing Parquet. */
  batch_rows: intIn(100, 10_000_000).default(50_000),
  /** In-flight buffer of one job, MiB; must be below memory_mb. */
  buffer_mb: intIn(1, 16384).default(64),
})
  .superRefine((p, ctx) => {
    const memoryOk = Number.isInteger(p.memory_mb) && p.memory_mb >= 64; // else already reported
    if (memoryOk && p.buffer_mb >= p.memory_mb) {
      ctx.addIssue({ code: 'custom', path: ['buffer_mb'], message: `an integer below profile.memory_mb (${p.memory_mb})` });
    }
  })
  .prefault({});

// ---------------------------------------------------------------------------------------------------------------
// The environment
// ---------------------------------------------------------------------------------------------------------------

export const EnvironmentSchema = strict('an environment', {
  /** Slug naming the environment (3-40 characters). */
  name: z
    .string({ error: 'an environment name' })
    .regex(SLUG, { error: 'a name of 3-40 characters: a-z, 0-9 and -, starting with a letter' }),
  description: z.string({ error: 'a string' }).max(1000).optional(),
  day: DaySchema,
  calendars: z
    .array(CalendarSchema, { error: 'a list of calendars' })
    .superRefine((cals, ctx) => {
      cals.forEach((c, i) => {
        if (cals.findIndex((o) => o.name === c.name) !== i) {
          ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'a calendar name not already used' });
        }
      });
    })
    .default([]),
  feeds: FeedsSchema,
  middleware: MiddlewareSchema,
  servers: ServersSchema,
  storage: StorageSchema,
  profile: ProfileSchema,
}).superRefine((env, ctx) => {
  const calendars = [...BUILTIN_CALENDARS, ...env.calendars.map((c) => c.name)];
  if (!calendars.includes(env.day.calendar)) {
    ctx.addIssue({
      code: 'custom',
      path: ['day', 'calendar'],
      message: `one of ${calendars.join('|')} (built-in or declared under calendars)`,
    });
  }
  const mw = env.middleware;
  // `params.anchor` tells load.ts to point at the middleware choice when the missing piece has no position
  const need = (present: unknown, path: string[], what: string, cause: keyof typeof mw): void => {
    if (present !== undefined) return;
    const message = `${what}, because middleware.${cause} is ${mw[cause]}`;
    ctx.addIssue({ code: 'custom', path, message, params: { anchor: ['middleware', cause] } });
  };
  const { servers, storage } = env;
  const nats = 'a NATS server { url: nats://host:4222 }';
  if (mw.journal === 'jetstream') need(servers.nats, ['servers', 'nats'], nats, 'journal');
  else if (mw.transport === 'nats') need(servers.nats, ['servers', 'nats'], nats, 'transport');
  if (mw.transport === 'mqtt') need(servers.mqtt, ['servers', 'mqtt'], 'an MQTT broker { url: mqtt://host:1883 }', 'transport');
  if (mw.cache === 'redis') need(servers.redis, ['servers', 'redis'], 'a Redis server { url: redis://host:6379 }', 'cache');
  if (mw.scheduler === 'temporal') {
    need(servers.temporal, ['servers', 'temporal'], 'a Temporal server { address: host:7233 }', 'scheduler');
  }
  if (mw.storage === 's3') need(storage.s3, ['storage', 's3'], 'an S3 archive { bucket: ... }', 'storage');
});

/** A validated environment, defaults applied. */
export type Environment = z.infer<typeof EnvironmentSchema>;
/** What may be written in the file (defaults not yet applied). */
export type EnvironmentInput = z.input<typeof EnvironmentSchema>;
export type Feed = Environment['feeds'][number];
export type KalshiFeed = Extract<Feed, { feed: 'kalshi' }>;
export type PolymarketFeed = Extract<Feed, { feed: 'polymarket' }>;
export type KrakenFeed = Extract<Feed, { feed: 'kraken' }>;
export type FeedInput = z.input<typeof FeedInputSchema>;
export type Day = Environment['day'];
export type Calendar = Environment['calendars'][number];
export type Middleware = Environment['middleware'];
export type Servers = Environment['servers'];
export type Storage = Environment['storage'];
export type Profile = Environment['profile'];
