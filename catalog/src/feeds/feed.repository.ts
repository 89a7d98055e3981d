import type { Kysely } from 'kysely';
import { NotFoundError } from '../../../core/src/errors.js';
import type { Database } from '../database.js';
import type { Feed, FeedVersion } from '../tables/feeds.table.js';
import { OutOfOrderVersionError } from '../timeseries/timeseries.js';

export interface FeedVersionInput {
  protocol_version: string;
  endpoints: Record<string, string>;
  channels: string[];
  capture_locations?: unknown[];
  effective_from: Date;
}

/** Create the feed if it is new (idempotent). */
export async function registerFeed(db: Kysely<Database>, feed: { name: string; venue: Feed['venue']; description?: string }): Promise<void> {
  await db.insertInto('feeds').values({ name: feed.name, venue: feed.venue, description: feed.description ?? '' })
    .onConflict((oc) => oc.column('name').doNothing()).execute();
}

function sameVersion(a: FeedVersion, b: FeedVersionInput): boolean {
  return a.protocol_version === b.protocol_version && a.effective_from.getTime() === b.effective_from.getTime()
    && JSON.stringify(a.endpoints) === JSON.stringify(b.endpoints) && JSON.stringify(a.channels) === JSON.stringify(b.channels)
    && JSON.stringify(a.capture_locations) === JSON.stringify(b.capture_locations ?? []);
}

/**
 * Append a feed version in force from `effective_from`, closing the open one. Re-adding the
 * version already open is a no-op; a version that starts before the open one is refused.
 */
export async function addFeedVersion(db: Kysely<Database>, feed: string, input: FeedVersionInput): Promise<{ version: number; created: boolean }> {
  return db.transaction().execute(async (tx) => {
    const known = await tx.selectFrom('feeds').select('name').where('name', '=', feed).executeTakeFirst();
    if (!known) throw new NotFoundError(`feed ${feed} is not registered`);
    const all = await tx.selectFrom('feed_versions').selectAll().where('feed', '=', feed).orderBy('version').forUpdate().execute();
    if (all.some((v) => sameVersion(v, input))) return { version: all.find((v) => sameVersion(v, input))!.version, created: false };
    const open = all.find((v) => v.effective_to === null);
    if (open && input.effective_from.getTime() <= open.effective_from.getTime()) {
      throw new OutOfOrderVersionError(`feed ${feed}: a version effective from ${input.effective_from.toISOString()} does not follow v${open.version} (effective from ${open.effective_from.toISOString()})`);
    }
    if (open) await tx.updateTable('feed_versions').set({ effective_to: input.effective_from }).where('id', '=', open.id).execute();
    const version = (all.at(-1)?.version ?? 0) + 1;
    await tx.insertInto('feed_versions').values({
      feed, version, protocol_version: input.protocol_version, endpoints: JSON.stringify(input.endpoints) as never,
      channels: input.channels, capture_locations: JSON.stringify(input.capture_locations ?? []) as never, effective_from: input.effective_from, effective_to: null,
    }).execute();
    return { version, created: true };
  });
}

/** The version of `feed` in force at `at`, or undefined before its first version. */
export async function feedVersionAsOf(db: Kysely<Database>, feed: string, at: Date): Promise<FeedVersion | undefined> {
  return db.selectFrom('feed_versions').selectAll().where('feed', '=', feed).where('effective_from', '<=', at)
    .where((eb) => eb.or([eb('effective_to', 'is', null), eb('effective_to', '>', at)])).executeTakeFirst();
}

/** Every feed with the version in force at `at` (null when none yet). */
export async function listFeeds(db: Kysely<Database>, at: Date): Promise<Array<Feed & { current: FeedVersion | null }>> {
  const feeds = await db.selectFrom('feeds').selectAll().orderBy('name').execute();
  return Promise.all(feeds.map(async (f) => ({ ...f, current: (await feedVersionAsOf(db, f.name, at)) ?? null })));
}

export async function feedVersions(db: Kysely<Database>, feed: string): Promise<FeedVersion[]> {
  return db.selectFrom('feed_versions').selectAll().where('feed', '=', feed).orderBy('version').execute();
}
