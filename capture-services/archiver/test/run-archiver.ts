/**
 * A real archiver process for the crash tests: `node --import tsx run-archiver.ts <config.json>`.
 * Tunables come from SSMD_ARCHIVER_* (parsed once here, at the process edge). Modes:
 *   run    tail the stream until SIGTERM (prints `progress <committedJournalSeq>` lines)
 *   final  catch up, close every day found on block storage, print `done`, exit
 * Findings are printed as `finding <json>` lines.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { openCatalog } from '../../../catalog/src/db/connect.js';
import { openLocalJournal } from '../../../core/src/middleware/journal/local.js';
import { LocalObjectStore } from '../../../core/src/middleware/storage/local.js';
import { loadArchiverTunables, openArchiver } from '../src/index.js';

interface ChildConfig {
  mode: 'run' | 'final';
  env: string;
  feed: string;
  journalDir: string;
  blockDir: string;
  storeRoot: string;
  uploadStateDir: string;
  catalogUrl: string;
}

const cfg = JSON.parse(await fsp.readFile(process.argv[2]!, 'utf8')) as ChildConfig;
const tunables = loadArchiverTunables(process.env);
const journal = await openLocalJournal({ dir: cfg.journalDir, readOnly: true });
const catalog = await openCatalog(cfg.catalogUrl, { migrate: false });
const store = new LocalObjectStore({ root: cfg.storeRoot, prefix: cfg.env });
const out = (line: string): void => void process.stdout.write(`${line}\n`);
const archiver = await openArchiver({
  env: cfg.env, feed: cfg.feed, journal, blockDir: cfg.blockDir, store, uploadStateDir: cfg.uploadStateDir, db: catalog.db,
  findings: { record: (f) => out(`finding ${JSON.stringify(f)}`) }, ...tunables,
});
out(`opened ${archiver.stats().lastJournalSeq} ${JSON.stringify(archiver.stats().recovered)}`);

if (cfg.mode === 'run') {
  const ctl = new AbortController();
  process.once('SIGTERM', () => ctl.abort());
  const progress = setInterval(() => out(`progress ${archiver.stats().committedJournalSeq}`), 20);
  await archiver.run(ctl.signal);
  clearInterval(progress);
} else {
  await archiver.catchUp();
  const days = (await fsp.readdir(path.join(cfg.blockDir, 'raw', cfg.env, cfg.feed)).catch(() => [] as string[])).sort();
  for (const day of days) await archiver.closeDay(day);
  const report = await archiver.flushUploads();
  out(`done ${archiver.stats().lastJournalSeq} ${JSON.stringify(report)}`);
}
await archiver.close();
await catalog.close();
await journal.close();
