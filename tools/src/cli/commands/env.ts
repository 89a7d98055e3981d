import { access, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../../../core/src/fsutil.js';
import { Option, type Command } from 'commander';
import { ConfigError, NotFoundError, SsmdError } from '../../../../core/src/errors.js';
import {
  addFeed, diffEnvironments, initEnvironment, loadEnvironmentFile, parseEnvironment, removeFeed, setValues, unsetValue, validateEnvironment,
  type EnvironmentChange,
} from '../../../../core/src/environment/index.js';
import { VENUES } from '../../../../core/src/environment/schema.js';
import {
  applyEnvironment, checkKeyReferences, environmentHistory, getRevision, latestRevision, listEnvironments, planEnvironment, type ApplyResult,
} from '../../../../catalog/src/environments/environment.repository.js';
import { parseCatalogUrl } from '../../../../catalog/src/db/connect.js';
import { instant, list, type Runner } from '../action.js';
import type { CommandContext } from '../context.js';
import { table } from '../io.js';

const ENV_DIR = 'deploy/environments';

/** `homelab` means `deploy/environments/homelab.yaml`; anything with a slash or .yaml is a path. */
export function envPath(ctx: CommandContext, target: string): string {
  return /[/\\]|\.ya?ml$/.test(target) ? resolve(ctx.io.cwd, target) : resolve(ctx.io.cwd, ENV_DIR, `${target}.yaml`);
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`environment file not found: ${file} (create one with \`ssmd env init <name>\`)`);
    throw e;
  }
}

/** Replace the file atomically (temp, fsync, rename) so a crash never leaves half a YAML file. */
const writeAtomic = (file: string, text: string) => writeFileAtomic(file, Buffer.from(text));

/** Edit a file through a pure text transform; the editor re-validates, so nothing invalid is written. */
async function edit(ctx: CommandContext, target: string, change: (text: string, file: string) => string, what: string): Promise<void> {
  const file = envPath(ctx, target);
  const before = await readText(file);
  const after = change(before, file);
  if (after !== before) await writeAtomic(file, after);
  ctx.out.result({ file, changed: after !== before, change: what }, () => (after === before ? `${file}: unchanged` : `${file}: ${what}`));
}

/** Key references can only be checked against an existing catalog; opening a new embedded one would be a side effect. */
async function catalogExists(ctx: CommandContext): Promise<boolean> {
  const { kind, target } = parseCatalogUrl(ctx.config.catalogUrl);
  if (kind === 'postgres' || target === 'memory') return true;
  return access(target).then(() => true, () => false);
}

const SIGN = { add: '+', change: '~', remove: '-' } as const;

function renderDiff(diff: readonly EnvironmentChange[]): string[] {
  const v = (x: unknown) => JSON.stringify(x);
  return diff.map((d) => `  ${SIGN[d.op]} ${d.path}${d.op === 'change' ? `: ${v(d.before)} -> ${v(d.after)}` : d.op === 'add' ? ` ${v(d.after)}` : ` ${v(d.before)}`}`);
}

function renderApply(r: ApplyResult, verb: 'plan' | 'apply'): string {
  if (r.unchanged) return `environment ${r.environment}: revision ${r.revision} already has this content; nothing to ${verb === 'plan' ? 'apply' : 'do'}`;
  const head = verb === 'plan'
    ? `environment ${r.environment}: apply would record revision ${r.revision}${r.previousRevision ? ` (current ${r.previousRevision})` : ' (first revision)'}`
    : `environment ${r.environment}: applied revision ${r.revision}`;
  return [
    head,
    'catalog changes:', ...r.changes.map((c) => `  ${SIGN[c.op]} ${c.area} ${c.target}`),
    ...(r.previousRevision ? [`file changes since revision ${r.previousRevision}:`, ...(r.diff.length ? renderDiff(r.diff) : ['  (formatting or comments only)'])] : []),
  ].join('\n');
}

export function registerEnv(program: Command, run: Runner): void {
  const env = program.command('env').description('Trading environments: declarative YAML files, created and edited here, applied to the catalog.')
    .addHelpText('after', `
<env> is a file path, or a bare name meaning ${ENV_DIR}/<name>.yaml.
Paths are dotted: day.start, middleware.journal, profile.memory_mb, feeds.<name>.channels, feeds[0].select.pairs.
Workflow:
  ssmd env init homelab --timezone America/New_York --start 08:00 --end 20:00 --calendar weekdays
  ssmd env add-feed homelab --venue kraken --channels ticker,trade,book --select pairs=BTC/USD,ETH/USD
  ssmd env set homelab profile.memory_mb 1024
  ssmd env validate homelab && ssmd env plan homelab && ssmd env apply homelab
  ssmd env history homelab`);

  env.command('init <name>')
    .description('Write a new, valid, commented environment file (embedded middleware by default).')
    .option('--file <path>', `where to write (default ${ENV_DIR}/<name>.yaml)`)
    .option('--timezone <tz>', 'IANA time zone of the day', 'UTC')
    .option('--start <HH:MM>', 'day start, local time', '00:00')
    .option('--end <HH:MM>', 'day end, local time ("24:00" = midnight)', '24:00')
    .option('--calendar <name>', 'every-day, weekdays or a declared calendar', 'every-day')
    .option('--production', 'JetStream, NATS, Redis, S3 and Temporal instead of the embedded middleware')
    .option('--force', 'overwrite an existing file')
    .action(run(async (ctx, name: string, o: { file?: string; timezone: string; start: string; end: string; calendar: string; production?: boolean; force?: boolean }) => {
      const file = o.file ? resolve(ctx.io.cwd, o.file) : resolve(ctx.io.cwd, ENV_DIR, `${name}.yaml`);
      const text = initEnvironment({ name, timezone: o.timezone, start: o.start, end: o.end, calendar: o.calendar, embedded: !o.production, file });
      if (!o.force && (await access(file).then(() => true, () => false))) throw new SsmdError(`${file} exists; pass --force to overwrite, or edit it with \`ssmd env set\``, { code: 'EXISTS' });
      await writeAtomic(file, text);
      ctx.out.result({ file, name }, () => `wrote ${file}`);
    }));

  env.command('set <env> <assignments...>')
    .description('Set values: path=value ... (or path value). Values are YAML: 1024, true, [a, b], "08:00".')
    .action(run(async (ctx, target: string, assignments: string[]) => {
      const pairs: Array<[string, string]> = assignments.length === 2 && !assignments[0]!.includes('=')
        ? [[assignments[0]!, assignments[1]!]]
        : assignments.map((a) => {
          const i = a.indexOf('=');
          if (i <= 0) throw new SsmdError(`expected path=value, got ${JSON.stringify(a)}`, { code: 'USAGE' });
          return [a.slice(0, i), a.slice(i + 1)];
        });
      await edit(ctx, target, (t, f) => setValues(t, f, pairs), `set ${pairs.map(([p]) => p).join(', ')}`);
    }));

  env.command('unset <env> <path>').description('Remove an optional value.')
    .action(run(async (ctx, target: string, path: string) => edit(ctx, target, (t, f) => unsetValue(t, f, path), `unset ${path}`)));

  env.command('add-feed <env>')
    .description('Add a feed (a venue with its instruments and channels).')
    .addOption(new Option('--venue <venue>', 'exchange').choices(VENUES).makeOptionMandatory())
    .option('--name <name>', 'feed name, unique in the environment (default: the venue)')
    .requiredOption('--channels <list>', 'comma-separated channels of that venue', list)
    .option('--select <k=v>', 'instrument selection, repeatable: series=KXBTCD,KXETH  pairs=BTC/USD  status=open', (v: string, prev: string[] = []) => [...prev, v])
    .option('--credentials <ref>', 'key:<name> in the key store (required for kalshi)')
    .option('--max-per-connection <n>', 'instruments per connection (sharding)', (v) => Number.parseInt(v, 10))
    .option('--transport <t>', 'kraken only: ws or echidna')
    .option('--book-depth <n>', 'kraken only: 10, 25, 100, 500 or 1000', (v) => Number.parseInt(v, 10))
    .action(run(async (ctx, target: string, o: { venue: string; name?: string; channels: string[]; select?: string[]; credentials?: string; maxPerConnection?: number; transport?: string; bookDepth?: number }) => {
      const select: Record<string, unknown> = {};
      for (const s of o.select ?? []) {
        const i = s.indexOf('=');
        if (i <= 0) throw new SsmdError(`--select expects key=value, got ${JSON.stringify(s)}`, { code: 'USAGE' });
        const k = s.slice(0, i);
        const v = s.slice(i + 1);
        select[k] = ['status', 'active'].includes(k) ? (v === 'true' ? true : v === 'false' ? false : v) : list(v);
      }
      const feed: Record<string, unknown> = { feed: o.venue, ...(o.name ? { name: o.name } : {}), select, channels: o.channels };
      if (o.maxPerConnection !== undefined) feed.shards = { max_per_connection: o.maxPerConnection };
      if (o.credentials) feed.credentials = o.credentials;
      if (o.transport) feed.transport = o.transport;
      if (o.bookDepth !== undefined) feed.book_depth = o.bookDepth;
      await edit(ctx, target, (t, f) => addFeed(t, f, feed), `added feed ${o.name ?? o.venue}`);
    }));

  env.command('remove-feed <env> <name>').description('Remove a feed by name.')
    .action(run(async (ctx, target: string, name: string) => edit(ctx, target, (t, f) => removeFeed(t, f, name), `removed feed ${name}`)));

  env.command('validate <envs...>')
    .description('Check files: schema, types, cross-field rules, and that every key: reference exists in the key store.')
    .option('--offline', 'skip the key-store check (no catalog needed)')
    .action(run(async (ctx, targets: string[], o: { offline?: boolean }) => {
      const results: Array<{ file: string; ok: boolean; issues: unknown[] }> = [];
      const issues = [];
      const checkKeys = !o.offline && (await catalogExists(ctx));
      for (const target of targets) {
        const file = envPath(ctx, target);
        const text = await readText(file);
        const res = validateEnvironment(text, file);
        let fileIssues = res.issues as ConfigError['issues'][number][];
        if (res.env && checkKeys) {
          try {
            await checkKeyReferences((await ctx.catalog()).db, { env: res.env, text, file, sha256: '' });
          } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            fileIssues = [...e.issues];
          }
        }
        results.push({ file, ok: fileIssues.length === 0, issues: fileIssues });
        issues.push(...fileIssues);
      }
      if (issues.length) throw new ConfigError(issues);
      if (!o.offline && !checkKeys) {
        throw new SsmdError(`the files are valid, but key: references cannot be checked: no catalog at ${ctx.config.catalogUrl} (run \`ssmd init\`, or pass --offline)`, { code: 'NO_CATALOG' });
      }
      ctx.out.result({ ok: true, keysChecked: checkKeys, files: results }, () => results.map((r) => `${r.file}: ok${checkKeys ? '' : ' (key references not checked)'}`).join('\n'));
    }));

  env.command('diff <env>')
    .description('Field-level differences: a file against the applied revision (default), another file, or a revision.')
    .option('--against <env>', 'another environment file')
    .option('--revision <n>', 'an applied revision number', (v) => Number.parseInt(v, 10))
    .action(run(async (ctx, target: string, o: { against?: string; revision?: number }) => {
      const loaded = await loadEnvironmentFile(envPath(ctx, target));
      let base;
      let label;
      if (o.against) {
        const other = envPath(ctx, o.against);
        base = parseEnvironment(await readText(other), other);
        label = other;
      } else {
        const { db } = await ctx.catalog();
        const rev = o.revision !== undefined ? await getRevision(db, loaded.env.name, { revision: o.revision }) : await latestRevision(db, loaded.env.name);
        base = rev ? parseEnvironment(rev.content, `${loaded.env.name}@${rev.revision}`) : null;
        label = rev ? `revision ${rev.revision}` : 'nothing applied yet';
      }
      const diff = diffEnvironments(base, loaded.env);
      ctx.out.result({ against: label, changes: diff }, () => [`${loaded.file} vs ${label}:`, ...(diff.length ? renderDiff(diff) : ['  no differences'])].join('\n'));
    }));

  env.command('plan <env>')
    .description('Show exactly what apply would change in the catalog (runs apply in a transaction and rolls back).')
    .action(run(async (ctx, target: string) => {
      const loaded = await loadEnvironmentFile(envPath(ctx, target));
      const result = await planEnvironment((await ctx.catalog()).db, loaded, { actor: ctx.config.actor });
      ctx.out.result(result, () => renderApply(result, 'plan'));
    }));

  env.command('apply <env>')
    .description('Record a new revision (who, when, sha256) and update day definition, calendars and feed assignments.')
    .action(run(async (ctx, target: string) => {
      const loaded = await loadEnvironmentFile(envPath(ctx, target));
      const result = await applyEnvironment((await ctx.catalog()).db, loaded, { actor: ctx.config.actor });
      ctx.out.result(result, () => renderApply(result, 'apply'));
    }));

  env.command('list').description('Applied environments with their current revision.')
    .action(run(async (ctx) => {
      const rows = await listEnvironments((await ctx.catalog()).db);
      ctx.out.result(rows, () => table(rows, ['name', 'revision', 'applied_at', 'applied_by']));
    }));

  env.command('history <name>').description('Every applied revision, newest first.')
    .action(run(async (ctx, name: string) => {
      const rows = await environmentHistory((await ctx.catalog()).db, name);
      ctx.out.result(rows, () => table(rows.map((r) => ({ ...r, sha256: r.content_sha256.slice(0, 12) })), ['revision', 'applied_at', 'applied_by', 'sha256', 'source_file']));
    }));

  env.command('show <name>').description('The applied file: latest, a revision, or the one in force at an instant.')
    .option('--revision <n>', 'revision number', (v) => Number.parseInt(v, 10))
    .option('--as-of <instant>', 'ISO 8601 instant', instant('--as-of'))
    .action(run(async (ctx, name: string, o: { revision?: number; asOf?: Date }) => {
      const rev = await getRevision((await ctx.catalog()).db, name, o);
      ctx.out.result(rev, () => `# ${name} revision ${rev.revision}, applied ${rev.applied_at.toISOString()} by ${rev.applied_by}\n${rev.content.trimEnd()}`);
    }));
}
