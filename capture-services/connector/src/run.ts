import type { Kysely } from 'kysely';
import type { Environment, Feed } from '../../../core/src/environment/schema.js';
import { NotFoundError, SsmdError } from '../../../core/src/errors.js';
import type { Logger } from '../../../core/src/log/logger.js';
import type { FindingSink } from '../../../core/src/middleware/findings.js';
import type { BufferedPublisher } from '../../../core/src/middleware/journal/buffered-publisher.js';
import type { CredentialResolver, Middleware } from '../../../core/src/middleware/open.js';
import type { Database } from '../../../catalog/src/database.js';
import { finishRun, startRun } from '../../../catalog/src/runs/run.repository.js';
import { VENUES } from '../../venues/src/registry.js';
import type { WsTlsOptions } from '../../venues/src/ws-feed-base.js';
import { captureShard, newCaptureStats, type CaptureStats } from './capture.js';
import { resolveInstruments } from './resolve.js';

export interface RunCaptureOptions {
  env: Environment;
  /** The feed's name in the environment. */
  feed: string;
  /** Shards this process runs (default all). */
  shards?: number[];
  middleware: Middleware;
  db: Kysely<Database>;
  resolveCredential: CredentialResolver;
  /** Where findings go (the catalog in production). */
  findings: FindingSink;
  signal: AbortSignal;
  /** Override the venue's WebSocket URL (simulators, tests). */
  wsUrl?: string;
  tls?: WsTlsOptions;
  codeVersion: string;
  log?: Logger;
  /** Called once per shard when it starts, for progress output and metrics. */
  onShard?: (shard: number, instruments: number, stats: CaptureStats, publisher: BufferedPublisher) => void;
}

export interface CaptureReport {
  runId: string;
  feed: string;
  instruments: number;
  unknownInstruments: string[];
  shards: Array<{ shard: number; instruments: number; stats: CaptureStats }>;
}

function feedOf(env: Environment, name: string): Feed {
  const feed = env.feeds.find((f) => f.name === name);
  if (!feed) throw new NotFoundError(`environment ${env.name} has no feed ${name} (feeds: ${env.feeds.map((f) => f.name).join(', ')})`);
  return feed;
}

/**
 * Capture one feed of an environment until `signal` aborts: resolve its instruments from the
 * secmaster as of now, shard them by the feed's `max_per_connection`, run one connection per
 * shard, and publish every frame through a buffered publisher (limit from the profile) into the
 * journal. Recorded as a `capture` run; faults are findings.
 */
export async function runCapture(o: RunCaptureOptions): Promise<CaptureReport> {
  const feed = feedOf(o.env, o.feed);
  const venue = VENUES[feed.feed];
  const clock = o.middleware.clock;
  const { instruments, unknown } = await resolveInstruments(o.db, feed, new Date(clock.now()));
  o.log?.info('instruments resolved', { feed: feed.name, instruments: instruments.length, unknown: unknown.length });
  if (instruments.length === 0) {
    throw new SsmdError(`feed ${feed.name}: the selection matches no instrument in the secmaster as of now (run \`ssmd secmaster sync --feed ${feed.feed}\` first)`, { code: 'NO_INSTRUMENTS' });
  }
  if (unknown.length) {
    o.findings.record({ kind: 'unknown_instrument', severity: 'warning', windowStart: clock.now(), summary: `${unknown.length} selected instrument(s) not in the secmaster: ${unknown.slice(0, 10).join(', ')}`, detail: { unknown }, symbols: unknown.slice(0, 50) });
  }
  const credentials = venue.needsCredentials || feed.credentials ? await credentialOf(o.resolveCredential, feed) : undefined;
  const groups = venue.shard(instruments, feed.shards.max_per_connection);
  const chosen = o.shards ?? groups.map((_, i) => i);
  for (const s of chosen) if (!groups[s]) throw new NotFoundError(`feed ${feed.name} has ${groups.length} shard(s) (0..${groups.length - 1}); there is no shard ${s}`);
  const run = await startRun(o.db, { kind: 'capture', codeVersion: o.codeVersion, environment: o.env.name, feed: feed.name, day: new Date(clock.now()).toISOString().slice(0, 10), params: { shards: chosen, instruments: instruments.length } });
  try {
    const shards = await Promise.all(chosen.map(async (shard) => {
      const publisher = o.middleware.publisher(`${feed.name}-${shard}`);
      const stats = newCaptureStats();
      const group = groups[shard]!;
      o.onShard?.(shard, group.length, stats, publisher);
      const wsFeed = venue.createFeed(feed, group, { feed: feed.name, shard, clock, signal: o.signal, ...(o.wsUrl ? { url: o.wsUrl } : {}), ...(o.tls ? { tls: o.tls } : {}) }, credentials);
      await captureShard({ env: o.env.name, feed: feed.name, shard, events: wsFeed.events(), classify: venue.classify, publisher, findings: o.findings, clock, stats, ...(o.log ? { log: o.log } : {}) });
      await publisher.close();
      return { shard, instruments: group.length, stats };
    }));
    await finishRun(o.db, run.id, 'succeeded');
    return { runId: run.id, feed: feed.name, instruments: instruments.length, unknownInstruments: unknown, shards };
  } catch (err) {
    await finishRun(o.db, run.id, 'failed', (err as Error).message);
    throw err;
  }
}

async function credentialOf(resolve: CredentialResolver, feed: Feed): Promise<{ value: Buffer; attributes: Record<string, string> }> {
  const ref = feed.credentials;
  if (!ref) throw new SsmdError(`feed ${feed.name}: ${feed.feed} needs credentials: key:<name>`, { code: 'CONFIG_INVALID' });
  return resolve(ref.slice('key:'.length), `capture ${feed.name}`);
}
