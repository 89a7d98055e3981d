/**
 * Child-process entry for kill9.test.ts: capture a Kraken feed into an embedded local journal with
 * the catalog on Postgres, until SIGTERM (then abort, flush, exit 0).
 *
 *   node --import tsx capture-services/connector/test/run-connector.ts <wsUrl> <home> <catalogUrl>
 */
import { parseEnvironment } from '../../../core/src/environment/index.js';
import { openMiddleware } from '../../../core/src/middleware/open.js';
import { MemoryFindingSink } from '../../../core/src/middleware/findings.js';
import { openCatalog } from '../../../catalog/src/db/connect.js';
import { runCapture } from '../src/run.js';

const [wsUrl, home, catalogUrl] = process.argv.slice(2);
if (!wsUrl || !home || !catalogUrl) {
  process.stderr.write('usage: run-connector.ts <wsUrl> <home> <catalogUrl>\n');
  process.exit(2);
}

const ac = new AbortController();
process.on('SIGTERM', () => ac.abort());
process.on('SIGINT', () => ac.abort());

const env = parseEnvironment(`name: lab
day: {timezone: UTC, start: "00:00", end: "24:00"}
feeds:
  - {feed: kraken, select: {pairs: [BTC/USD, ETH/USD]}, channels: [ticker, trade, book]}
storage: {block: data}
`, 'lab.yaml');

const catalog = await openCatalog(catalogUrl);
const mw = await openMiddleware(env, { home, cwd: home, resolveCredential: () => Promise.reject(new Error('no credentials in this test')) });
const findings = new MemoryFindingSink();
try {
  const report = await runCapture({
    env, feed: 'kraken', middleware: mw, db: catalog.db, resolveCredential: () => Promise.reject(new Error('no credentials')),
    findings, signal: ac.signal, wsUrl, codeVersion: 'kill9-test',
    onShard: (shard, n) => process.stdout.write(`shard ${shard} started with ${n} instruments\n`),
  });
  const frames = report.shards.reduce((a, s) => a + s.stats.frames, 0);
  process.stdout.write(`stopped: ${frames} frames\n`);
} finally {
  await mw.close();
  await catalog.close();
}
process.exit(0);
