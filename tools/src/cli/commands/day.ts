import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadEnvironmentFile } from '../../../../core/src/environment/index.js';
import { SsmdError } from '../../../../core/src/errors.js';
import { acquirePidLock, isAlive } from '../../../../core/src/fsutil.js';
import { resolveCredential } from '../../../../catalog/src/keys/secret.repository.js';
import { runDay, type DayStatus } from '../../../../capture-services/day/src/day.js';
import type { Runner } from '../action.js';
import type { CommandContext } from '../context.js';
import { VERSION } from '../version.js';
import { wsUrlFor } from '../../config.js';
import { envPath } from './env.js';

const runDir = (ctx: CommandContext, env: string) => join(ctx.config.home, 'run', env);

/** The command that runs this CLI again in a child process. */
function selfCommand(ctx: CommandContext): string[] {
  const entry = ctx.config.cliEntry ?? findBin(dirname(fileURLToPath(import.meta.url)));
  // A .ts entry (development, tests) runs through tsx, resolved from here rather than from the child's cwd.
  return [process.execPath, ...(entry.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : []), entry];
}

function findBin(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'bin', 'ssmd.mjs'))) return join(dir, 'bin', 'ssmd.mjs');
  throw new SsmdError('cannot find bin/ssmd.mjs above the CLI; set SSMD_CLI_ENTRY', { code: 'INTERNAL' });
}

async function readStatus(ctx: CommandContext, env: string): Promise<(DayStatus & { alive: boolean }) | undefined> {
  const text = await readFile(join(runDir(ctx, env), 'status.json'), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const s = JSON.parse(text) as DayStatus;
  return { ...s, alive: isAlive(s.pid) && s.state !== 'stopped' && s.state !== 'failed' };
}

function renderStatus(s: DayStatus & { alive?: boolean }): string {
  const state = s.state === 'running' && s.alive === false ? 'crashed (process gone without stopping)' : s.state;
  return [
    `day of ${s.env}: ${state} (pid ${s.pid}, since ${s.startedAt}, updated ${s.updatedAt}, run ${s.runId})`,
    ...s.feeds.map((f) => `  ${f.feed}: ${f.shards.length} shard(s), ${f.shards.reduce((n, x) => n + x.stats.frames, 0)} frames captured, ${f.shards.reduce((n, x) => n + x.stats.disconnects, 0)} disconnects; archived ${f.archiver?.frames ?? 0}, uploads pending ${f.archiver?.uploads.pending ?? 0}${f.error ? `; error: ${f.error}` : ''}`),
    ...s.manifests.map((m) => `  manifest ${m.feed} ${m.day}: ${m.files} file(s), ${m.frames} frames, complete=${m.complete}`),
  ].join('\n');
}

export function registerDay(program: Command, run: Runner): void {
  const dayCmd = program.command('day').description('The trading day of an environment: bring capture and archiving up, watch it, tear it down cleanly.')
    .addHelpText('after', `
  ssmd day start --env homelab     # in the background; logs in <home>/run/<env>/day.log
  ssmd day status --env homelab
  ssmd day stop --env homelab      # stop capture, archive to the end, close the UTC days touched, upload
Scheduling by the environment's day definition (Temporal) comes with issue 7; these are its activities.`);

  dayCmd.command('run').description('Run the day in the foreground until SIGINT/SIGTERM (what `day start` runs).')
    .requiredOption('--env <env>', 'environment file, or a name in deploy/environments/')
    .action(run(async (ctx, o: { env: string }) => {
      const loaded = await loadEnvironmentFile(envPath(ctx, o.env));
      const dir = runDir(ctx, loaded.env.name);
      await mkdir(dir, { recursive: true });
      const lock = await acquirePidLock(join(dir, 'day.lock'), (pid) => new SsmdError(`the day of ${loaded.env.name} is already running (pid ${pid}); see \`ssmd day status --env ${o.env}\``, { code: 'ALREADY_RUNNING' }));
      try {
        const { db } = await ctx.catalog();
        const keys = await ctx.keyStore();
        const ac = new AbortController();
        const stop = () => ac.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          const status = await runDay({ env: loaded.env, home: ctx.config.home, cwd: ctx.io.cwd, db, resolveCredential: (n, p) => resolveCredential(db, keys, n, p), signal: ac.signal, codeVersion: VERSION,
            wsUrls: Object.fromEntries(loaded.env.feeds.flatMap((f) => { const u = wsUrlFor(ctx.config, f); return u ? [[f.name, u]] : []; })) });
          ctx.out.result(status, () => renderStatus(status));
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      } finally {
        await rm(lock, { force: true });
      }
    }));

  dayCmd.command('start').description('Start the day in the background and return once it is running.')
    .requiredOption('--env <env>', 'environment file, or a name in deploy/environments/')
    .option('--timeout <seconds>', 'how long to wait for it to come up', (v) => Number.parseFloat(v), 60)
    .action(run(async (ctx, o: { env: string; timeout: number }) => {
      const file = envPath(ctx, o.env);
      const { env } = await loadEnvironmentFile(file);
      const dir = runDir(ctx, env.name);
      await mkdir(dir, { recursive: true });
      const current = await readStatus(ctx, env.name);
      if (current?.alive) throw new SsmdError(`the day of ${env.name} is already running (pid ${current.pid})`, { code: 'ALREADY_RUNNING' });
      await rm(join(dir, 'status.json'), { force: true });
      const log = join(dir, 'day.log');
      const [cmd, ...args] = selfCommand(ctx);
      const child = spawn(cmd!, [...args, 'day', 'run', '--env', resolve(file), '--home', ctx.config.home, '--catalog', ctx.config.catalogUrl], {
        cwd: ctx.io.cwd, detached: true, stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')], env: { ...process.env, ...ctx.io.env },
      });
      child.unref();
      const deadline = Date.now() + o.timeout * 1000;
      for (;;) {
        const s = await readStatus(ctx, env.name);
        if (s?.state === 'running') {
          ctx.out.result({ ...s, log }, () => `started the day of ${env.name} (pid ${s.pid}); logs: ${log}`);
          return;
        }
        if (!isAlive(child.pid!) || Date.now() > deadline) {
          const tail = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n');
          throw new SsmdError(`the day of ${env.name} did not come up${isAlive(child.pid!) ? ` within ${o.timeout} s` : ''}; last lines of ${log}:\n${tail}`, { code: 'START_FAILED' });
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }));

  dayCmd.command('stop').description('Stop the day: capture stops, the archive catches up, days are closed and uploaded; waits for it.')
    .requiredOption('--env <env>', 'environment file, or a name in deploy/environments/')
    .option('--timeout <seconds>', 'how long to wait for a clean stop', (v) => Number.parseFloat(v), 300)
    .action(run(async (ctx, o: { env: string; timeout: number }) => {
      const { env } = await loadEnvironmentFile(envPath(ctx, o.env));
      const s = await readStatus(ctx, env.name);
      if (!s?.alive) throw new SsmdError(`the day of ${env.name} is not running${s ? ` (last state: ${s.state})` : ''}`, { code: 'NOT_RUNNING' });
      process.kill(s.pid, 'SIGTERM');
      const deadline = Date.now() + o.timeout * 1000;
      while (isAlive(s.pid)) {
        if (Date.now() > deadline) throw new SsmdError(`the day of ${env.name} (pid ${s.pid}) is still stopping after ${o.timeout} s; see ${join(runDir(ctx, env.name), 'day.log')}`, { code: 'STOP_TIMEOUT' });
        await new Promise((r) => setTimeout(r, 200));
      }
      const final = (await readStatus(ctx, env.name))!;
      ctx.out.result(final, () => renderStatus(final));
    }));

  dayCmd.command('status').description('What the day is doing: capture per shard, archive progress, manifests.')
    .requiredOption('--env <env>', 'environment file, or a name in deploy/environments/')
    .action(run(async (ctx, o: { env: string }) => {
      const { env } = await loadEnvironmentFile(envPath(ctx, o.env));
      const s = await readStatus(ctx, env.name);
      if (!s) throw new SsmdError(`no day of ${env.name} has been started here (start one with \`ssmd day start --env ${o.env}\`)`, { code: 'NOT_RUNNING' });
      ctx.out.result(s, () => renderStatus(s));
    }));
}
