import { join, resolve } from 'node:path';
import type { Environment } from '../environment/schema.js';
import { ConfigError } from '../errors.js';
import type { Cache } from './cache.js';
import { openCache } from './cache/index.js';
import { RealClock, type Clock } from './clock.js';
import { MemoryFindingSink, type FindingSink } from './findings.js';
import type { Journal, StreamSpec } from './journal.js';
import { BufferedPublisher } from './journal/buffered-publisher.js';
import { rawFeedFilter, rawStreamName, rawTypeFilter } from './subjects.js';
import type { ObjectStore } from './storage.js';
import { openObjectStore } from './storage/index.js';
import type { Transport } from './transport.js';
import { openTransport } from './transport/index.js';

/** Looks a `key:<name>` up in the key store (decrypts, audits, arms the redactor). */
export type CredentialResolver = (name: string, purpose: string) => Promise<{ value: Buffer; attributes: Record<string, string> }>;

/** Every middleware an environment chose, opened and ready. */
export interface Middleware {
  journal: Journal;
  transport: Transport;
  cache: Cache;
  storage: ObjectStore;
  clock: Clock;
  findings: FindingSink;
  /** The raw streams this environment journals into (already ensured). */
  streams: StreamSpec[];
  /**
   * A publisher in front of the journal whose buffer is the profile's `buffer_mb`; past it, the
   * policy (default `spill`) waits or continues in `<home>/spill/<env>/<name>`.
   */
  publisher(name: string, policy?: 'block' | 'spill'): BufferedPublisher;
  close(): Promise<void>;
}

const HOUR = 3_600_000;

/**
 * The raw stream of each feed: `<ENV>_<FEED>_RAW` capturing `<env>.<feed>.raw.>`, with explicit
 * limits. Retention is 72 h (the archive on block storage and S3 is the long-term copy); the
 * size bound is 8 GiB per feed and drops the oldest; a replayed publish within 2 minutes is
 * de-duplicated by its message id.
 */
export function rawStreamSpecs(env: Environment): StreamSpec[] {
  return env.feeds.map((f) => ({
    name: rawStreamName(env.name, f.name), subjects: [rawFeedFilter(env.name, f.name)],
    maxAgeMs: 72 * HOUR, maxBytes: 8 * 1024 ** 3, discard: 'old', duplicateWindowMs: 120_000,
  }));
}

/** One subject pattern per feed and channel: what capture will publish. */
export function publishedSubjects(env: Environment): string[] {
  return env.feeds.flatMap((f) => f.channels.map((c) => rawTypeFilter(env.name, f.name, c)));
}

function keyName(ref: string | undefined): string | undefined {
  return ref?.startsWith('key:') ? ref.slice(4) : undefined;
}

function need<T>(value: T | undefined, path: string, expected: string): T {
  if (value === undefined) throw new ConfigError([{ file: '(environment)', path, expected, got: 'nothing' }]);
  return value;
}

/**
 * Open the journal, transport, cache and storage the environment's `middleware` block chooses,
 * with credentials from the key store, then declare the raw streams and verify that every subject
 * capture will publish is captured by one (fail fast). `home` holds the embedded implementations'
 * files; `storage.block` is resolved against `cwd`.
 */
export async function openMiddleware(env: Environment, opts: {
  home: string; cwd: string; resolveCredential: CredentialResolver; clock?: Clock; findings?: FindingSink;
  /** `reader` (archiver, replay) opens the local journal read-only beside the capture process and declares nothing. */
  role?: 'writer' | 'reader';
}): Promise<Middleware> {
  const reader = opts.role === 'reader';
  const clock = opts.clock ?? new RealClock();
  const mw = env.middleware;
  const s = env.servers;
  const cred = async (ref: string | undefined, purpose: string) => {
    const name = keyName(ref);
    return name ? opts.resolveCredential(name, purpose) : undefined;
  };
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    let journal: Journal;
    if (mw.journal === 'jetstream') {
      const nats = need(s.nats, 'servers.nats', 'a NATS server for the jetstream journal');
      const c = await cred(nats.credentials, 'journal');
      const { openJetStreamJournal } = await import('./journal/jetstream.js');
      journal = await openJetStreamJournal({ servers: nats.url, name: `ssmd-${env.name}`, clock, ...natsAuth(c) });
    } else {
      const { openLocalJournal } = await import('./journal/local.js');
      journal = await openLocalJournal({ dir: join(opts.home, 'journal', env.name), clock, readOnly: reader });
    }
    opened.push(journal);

    let transport: Transport;
    if (mw.transport === 'mqtt') {
      const mqtt = need(s.mqtt, 'servers.mqtt', 'an MQTT broker for the mqtt transport');
      const c = await cred(mqtt.credentials, 'transport');
      transport = await openTransport({ kind: 'mqtt', url: mqtt.url, ...(c ? { username: c.attributes.username ?? env.name, password: c.value.toString() } : {}) });
    } else if (mw.transport === 'nats') {
      const nats = need(s.nats, 'servers.nats', 'a NATS server for the nats transport');
      transport = await openTransport({ kind: 'nats', servers: nats.url, ...natsAuth(await cred(nats.credentials, 'transport')) });
    } else {
      transport = await openTransport({ kind: 'memory' });
    }
    opened.push(transport);

    let cache: Cache;
    if (mw.cache === 'redis') {
      const redis = need(s.redis, 'servers.redis', 'a Redis server for the redis cache');
      const c = await cred(redis.credentials, 'cache');
      cache = await openCache({ kind: 'redis', url: redis.url, keyPrefix: `${env.name}:`, ...(c ? { password: c.value.toString() } : {}) });
    } else {
      cache = await openCache({ kind: 'memory', maxBytes: Math.max(1, Math.floor(env.profile.buffer_mb / 2)) * 1024 * 1024, clock });
    }
    opened.push(cache);

    let storage: ObjectStore;
    if (mw.storage === 's3') {
      const s3 = need(env.storage.s3, 'storage.s3', 'an S3 archive for the s3 storage');
      const c = need(await cred(s3.credentials, 'storage'), 'storage.s3.credentials', 'key:<name> of an s3 key (secret key, with attribute access_key_id)');
      storage = await openObjectStore({
        kind: 's3', bucket: s3.bucket, prefix: `${s3.prefix ?? ''}${env.name}`.replace(/\/+$/, ''), region: s3.region ?? 'us-east-1',
        ...(s3.endpoint ? { endpoint: s3.endpoint } : {}), accessKeyId: need(c.attributes.access_key_id, 'storage.s3.credentials', 'an s3 key with attribute access_key_id'),
        secretAccessKey: c.value.toString(), clock,
      });
    } else {
      storage = await openObjectStore({ kind: 'local', root: resolve(opts.cwd, env.storage.block, 'archive'), prefix: env.name });
    }
    opened.push(storage);

    const streams = rawStreamSpecs(env);
    if (!reader) {
      await journal.ensureStreams(streams);
      await journal.verifyCoverage(publishedSubjects(env));
    }
    const findings = opts.findings ?? new MemoryFindingSink();
    return {
      journal, transport, cache, storage, clock, findings, streams,
      publisher: (name, policy = 'spill') => new BufferedPublisher(journal, {
        maxBufferBytes: env.profile.buffer_mb * 1024 * 1024, policy, spillDir: join(opts.home, 'spill', env.name, name), clock, findings,
      }),
      async close() {
        for (const m of opened.reverse()) await m.close();
      },
    };
  } catch (err) {
    for (const m of opened.reverse()) await m.close().catch(() => undefined);
    throw err;
  }
}

/** NATS auth from a key: a `username` attribute means user/password, otherwise the value is a token. */
function natsAuth(c: { value: Buffer; attributes: Record<string, string> } | undefined): { user?: string; pass?: string; token?: string } {
  if (!c) return {};
  return c.attributes.username ? { user: c.attributes.username, pass: c.value.toString() } : { token: c.value.toString() };
}
