import { join } from 'node:path';
import type { Command } from 'commander';
import { loadEnvironmentFile } from '../../../../core/src/environment/index.js';
import { NotFoundError } from '../../../../core/src/errors.js';
import { openMiddleware } from '../../../../core/src/middleware/open.js';
import { CatalogFindingSink } from '../../../../catalog/src/dq/catalog-finding-sink.js';
import { resolveCredential } from '../../../../catalog/src/keys/secret.repository.js';
import { openArchiver, type Manifest } from '../../../../capture-services/archiver/src/index.js';
import type { Runner } from '../action.js';
import { VERSION } from '../version.js';
import { envPath } from './env.js';

interface ArchiveOptions {
  env: string;
  feed: string;
  duration?: number;
  catchUp?: boolean;
  closeDay?: string[];
}

export function registerArchive(program: Command, run: Runner): void {
  program.command('archive')
    .description("Archive a feed's journal into raw day files on block storage and upload them (resumes exactly where it stopped).")
    .requiredOption('--env <env>', 'environment file, or a name in deploy/environments/')
    .requiredOption('--feed <name>', 'feed name in the environment')
    .option('--catch-up', 'archive what the journal holds now, then exit')
    .option('--duration <seconds>', 'follow the journal for this long (default: until SIGINT/SIGTERM)', (v) => Number.parseFloat(v))
    .option('--close-day <yyyy-mm-dd>', 'afterwards close this UTC day: final files, complete manifest, upload (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .addHelpText('after', `
Files: <storage.block>/raw/<env>/<feed>/<yyyy-mm-dd>/<hh>-<firstJournalSeq>.jsonl.gz and manifest.json,
uploaded with verification to the environment's storage. Checkpoints live in the catalog, so a killed
archiver restarts with nothing lost or duplicated.
  ssmd archive --env homelab --feed kraken --catch-up --close-day 2026-11-29`)
    .action(run(async (ctx, o: ArchiveOptions) => {
      const loaded = await loadEnvironmentFile(envPath(ctx, o.env));
      if (!loaded.env.feeds.some((f) => f.name === o.feed)) throw new NotFoundError(`environment ${loaded.env.name} has no feed ${o.feed} (feeds: ${loaded.env.feeds.map((f) => f.name).join(', ')})`);
      const { db } = await ctx.catalog();
      const keys = await ctx.keyStore();
      const mw = await openMiddleware(loaded.env, { home: ctx.config.home, cwd: ctx.io.cwd, role: 'reader', resolveCredential: (n, p) => resolveCredential(db, keys, n, p) });
      const findings = new CatalogFindingSink(db, { feed: o.feed, source: `archiver:${o.feed}` });
      const archiver = await openArchiver({
        env: loaded.env.name, feed: o.feed, journal: mw.journal, blockDir: join(ctx.io.cwd, loaded.env.storage.block), store: mw.storage,
        uploadStateDir: join(ctx.config.home, 'uploads', loaded.env.name, o.feed), db, clock: mw.clock, findings, codeVersion: VERSION,
      });
      try {
        if (o.catchUp) {
          await archiver.catchUp();
        } else {
          const ac = new AbortController();
          const stop = () => ac.abort();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          const timer = o.duration ? setTimeout(stop, o.duration * 1000) : undefined;
          try {
            await archiver.run(ac.signal);
          } finally {
            clearTimeout(timer);
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
          }
        }
        const manifests: Manifest[] = [];
        for (const day of o.closeDay ?? []) manifests.push(await archiver.closeDay(day));
        await archiver.flushUploads();
        await findings.flush();
        const stats = archiver.stats();
        ctx.out.result({ stats, manifests }, () => [
          `archived ${o.feed}: ${stats.frames} frames up to journal seq ${stats.lastJournalSeq}, ${stats.files.closed} closed and ${stats.files.open} open file(s), ${stats.gaps.journal} journal gap(s)`,
          `uploads: ${stats.uploads.uploaded} done, ${stats.uploads.pending} pending${stats.uploads.lastError ? ` (last error: ${stats.uploads.lastError})` : ''}`,
          ...manifests.map((m) => `day ${m.day}: ${m.files.length} file(s), ${m.files.reduce((a, f) => a + f.lines, 0)} frames, complete=${m.complete}`),
        ].join('\n'));
      } finally {
        await archiver.close();
        await mw.close();
      }
    }));
}
