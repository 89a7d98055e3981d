import type { Command } from 'commander';
import { migrationStatus } from '../../../../catalog/src/db/migrate.js';
import { feedVersions, listFeeds } from '../../../../catalog/src/feeds/feed.repository.js';
import { instant, type Runner } from '../action.js';
import { table } from '../io.js';

export function registerCatalog(program: Command, run: Runner): void {
  const catalog = program.command('catalog').description('Inspect the catalog database (schema, migrations).');
  catalog.command('status')
    .description('Show where the catalog is and which migrations are applied (applies pending ones).')
    .action(run(async (ctx) => {
      const { db, location, kind } = await ctx.catalog();
      const migrations = await migrationStatus(db);
      ctx.out.result({ location, kind, migrations }, () => `catalog ${location} (${kind})\n${table(migrations, ['name', 'executedAt'])}`);
    }));

  const feeds = program.command('feeds').description('Feeds and their protocol versions (a time series).');
  feeds.command('list')
    .description('Every feed with the version in force at an instant (default now).')
    .option('--as-of <instant>', 'ISO 8601 instant', instant('--as-of'))
    .action(run(async (ctx, opts: { asOf?: Date }) => {
      const { db } = await ctx.catalog();
      const rows = await listFeeds(db, opts.asOf ?? new Date());
      ctx.out.result(rows, () => table(rows.map((f) => ({
        name: f.name, venue: f.venue, version: f.current?.version, protocol: f.current?.protocol_version, since: f.current?.effective_from, channels: f.current?.channels,
      })), ['name', 'venue', 'version', 'protocol', 'since', 'channels']));
    }));
  feeds.command('versions <feed>')
    .description('Every version of one feed with its effective window.')
    .action(run(async (ctx, feed: string) => {
      const { db } = await ctx.catalog();
      const rows = await feedVersions(db, feed);
      ctx.out.result(rows, () => table(rows, ['version', 'protocol_version', 'effective_from', 'effective_to', 'channels']));
    }));
}
