import type { Command } from 'commander';
import { loadEnvironmentFile } from '../../../../core/src/environment/index.js';
import { createLogger } from '../../../../core/src/log/logger.js';
import { openMiddleware } from '../../../../core/src/middleware/open.js';
import { CatalogFindingSink } from '../../../../catalog/src/dq/catalog-finding-sink.js';
import { resolveCredential } from '../../../../catalog/src/keys/secret.repository.js';
import { runCapture } from '../../../../capture-services/connector/src/run.js';
import type { CaptureStats } from '../../../../capture-services/connector/src/capture.js';
import { startMetricsServer } from '../../../../capture-services/connector/src/metrics.js';
import { authenticateApiKey } from '../../../../catalog/src/keys/api-key.repository.js';
import type { BufferedPublisher } from '../../../../core/src/middleware/journal/buffered-publisher.js';
import type { Runner } from '../action.js';
import { envPath } from './env.js';
import { VERSION } from '../version.js';
import { wsUrlFor } from '../../config.js';

interface CaptureOptions {
  env: string;
  feed: string;
  shard?: number[];
  wsUrl?: string;
  duration?: number;
  metricsPort?: number;
}

export function registerCapture(program: Command, run: Runner): void {
  program.command('capture')
    .description('Capture one feed of an environment into its journal until interrupted (SIGINT/SIGTERM) or --duration ends.')
    .requiredOption('--env <env>', 'environment file, or a name in deploy/environments/')
    .requiredOption('--feed <name>', 'feed name in the environment')
    .option('--shard <n>', 'run only this shard (repeatable; default every shard)', (v: string, prev: number[] = []) => [...prev, Number.parseInt(v, 10)])
    .option('--ws-url <url>', "override the venue's WebSocket URL (a simulator)")
    .option('--duration <seconds>', 'stop after this many seconds', (v) => Number.parseFloat(v))
    .option('--metrics-port <port>', 'serve Prometheus /metrics on 127.0.0.1:<port> (0 = any free port); needs an API key with data:read', (v) => Number.parseInt(v, 10))
    .addHelpText('after', `
Instruments come from the secmaster as of now and the feed's select; sync it first:
  ssmd secmaster sync --feed kalshi
  ssmd capture --env homelab --feed kalshi
Every frame is journaled byte-exact with its receive time, connection and sequence; disconnects,
sequence gaps and malformed frames are recorded as findings (see \`ssmd audit\`, the catalog's dq_findings).`)
    .action(run(async (ctx, o: CaptureOptions) => {
      const loaded = await loadEnvironmentFile(envPath(ctx, o.env));
      const { db } = await ctx.catalog();
      const keys = await ctx.keyStore();
      const credential = (name: string, purpose: string) => resolveCredential(db, keys, name, purpose);
      const mw = await openMiddleware(loaded.env, { home: ctx.config.home, cwd: ctx.io.cwd, resolveCredential: credential });
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const timer = o.duration ? setTimeout(stop, o.duration * 1000) : undefined;
      const findings = new CatalogFindingSink(db, { feed: o.feed, source: `connector:${o.feed}` });
      const wsUrlForFeed = () => { const f = loaded.env.feeds.find((x) => x.name === o.feed); return f ? wsUrlFor(ctx.config, f) : undefined; };
      const live: Array<[number, CaptureStats, BufferedPublisher]> = [];
      const metrics = o.metricsPort === undefined ? undefined : await startMetricsServer({
        port: o.metricsPort,
        shards: () => live.map(([shard, stats, publisher]) => ({ feed: o.feed, shard, stats, publisher: publisher.stats() })),
        authenticate: async (token) => authenticateApiKey(db, token, 'data:read', 'metrics').then(() => true, () => false),
      });
      if (metrics) ctx.out.note(`metrics on ${metrics.url}`);
      const progress = ctx.io.isTTY && !ctx.out.json ? setInterval(() => {
        const frames = live.reduce((a, [, s]) => a + s.frames, 0);
        ctx.io.stderr(`\r${o.feed}: ${live.length} shard(s), ${frames} frames, ${live.reduce((a, [, s]) => a + s.disconnects, 0)} disconnects `);
      }, 1000) : undefined;
      try {
        const report = await runCapture({
          env: loaded.env, feed: o.feed, ...(o.shard ? { shards: o.shard } : {}), middleware: mw, db, resolveCredential: credential, findings,
          log: createLogger({ level: 'info', write: ctx.io.stderr, base: { component: 'capture', env: loaded.env.name } }),
          signal: ac.signal, ...((o.wsUrl ?? wsUrlForFeed()) ? { wsUrl: (o.wsUrl ?? wsUrlForFeed())! } : {}), codeVersion: VERSION, onShard: (shard, _n, stats, publisher) => live.push([shard, stats, publisher]),
        });
        await findings.flush();
        ctx.out.result(report, () => [
          `\ncaptured ${o.feed} (run ${report.runId}): ${report.instruments} instruments on ${report.shards.length} shard(s)`,
          ...report.shards.map((s) => `  shard ${s.shard}: ${s.instruments} instruments, ${s.stats.frames} frames (${s.stats.byKind.data} data, ${s.stats.byKind.malformed} malformed, ${s.stats.byKind.unknown} unknown), ${s.stats.disconnects} disconnects, ${s.stats.sequenceGaps} sequence gaps`),
          ...(findings.failed.length ? [`  warning: ${findings.failed.length} finding(s) could not be written to the catalog`] : []),
        ].join('\n'));
      } finally {
        clearTimeout(timer);
        clearInterval(progress);
        await metrics?.close();
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await mw.close();
      }
    }));
}
