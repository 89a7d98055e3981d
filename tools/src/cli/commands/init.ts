import { chmod, mkdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { ensureMasterKeyFile } from '../../../../core/src/crypto/master-key.js';
import { migrationStatus } from '../../../../catalog/src/db/migrate.js';
import { seedBuiltinFeeds } from '../../../../catalog/src/feeds/builtin.js';
import type { Runner } from '../action.js';

export function registerInit(program: Command, run: Runner): void {
  program.command('init')
    .description('Prepare this machine: state directory, master key (0600), catalog schema and built-in feeds. Idempotent.')
    .addHelpText('after', `
Creates (only what is missing):
  <home>/master.key   32 random bytes, mode 0600, unless SSMD_MASTER_KEY is set
  <home>/catalog      the embedded PGlite catalog, unless SSMD_CATALOG points elsewhere
Example:
  ssmd init && ssmd env init homelab`)
    .action(run(async (ctx) => {
      await mkdir(ctx.config.home, { recursive: true, mode: 0o700 });
      await chmod(ctx.config.home, 0o700);
      const keyCreated = ctx.config.masterKey.value ? false : await ensureMasterKeyFile(ctx.config.masterKey.file);
      const kek = await ctx.masterKey();
      const { db, location } = await ctx.catalog();
      const seeded = await seedBuiltinFeeds(db);
      const migrations = await migrationStatus(db);
      const result = {
        home: ctx.config.home, catalog: location, masterKey: { id: kek.id, source: ctx.config.masterKey.value ? 'SSMD_MASTER_KEY' : ctx.config.masterKey.file, created: keyCreated },
        migrations: migrations.length, feedVersionsAdded: seeded,
      };
      ctx.out.result(result, () => [
        `home        ${result.home}`,
        `catalog     ${result.catalog} (${result.migrations} migrations applied)`,
        `master key  ${kek.id} from ${result.masterKey.source}${keyCreated ? ' (created; back it up: without it no secret can be read)' : ''}`,
        `feeds       ${seeded} built-in feed versions added`,
      ].join('\n'));
    }));
}
