import { Argument, Option, type Command } from 'commander';
import { sql } from 'kysely';
import { NotFoundError, SsmdError } from '../../../../core/src/errors.js';
import { RealClock } from '../../../../core/src/middleware/clock.js';
import { SECMASTER, SECMASTER_ENTITIES, type SecmasterEntity } from '../../../../catalog/src/secmaster/entities.js';
import { instrumentHistory } from '../../../../catalog/src/secmaster/secmaster.repository.js';
import type { SyncOptions, SyncResult } from '../../../../capture-services/venues/src/secmaster-sync.js';
import { KALSHI_EVENT_STATUSES, KALSHI_REST_URL, syncKalshiInstruments, type KalshiEventStatus } from '../../../../capture-services/venues/src/kalshi/instruments.js';
import { GAMMA_REST_URL, syncPolymarketInstruments } from '../../../../capture-services/venues/src/polymarket/instruments.js';
import { KRAKEN_REST_URL, syncKrakenInstruments } from '../../../../capture-services/venues/src/kraken/instruments.js';
import { instant, list, type Runner } from '../action.js';
import { table } from '../io.js';

const FEEDS = ['kalshi', 'polymarket', 'kraken'] as const;
type Feed = (typeof FEEDS)[number];
const DEFAULT_URL: Record<Feed, string> = { kalshi: KALSHI_REST_URL, polymarket: GAMMA_REST_URL, kraken: KRAKEN_REST_URL };

/** The columns `list` shows per entity in text mode (`--json` has every column). */
const LIST_COLUMNS: Record<SecmasterEntity, readonly string[]> = {
  kalshi_series: ['ticker', 'title', 'category', 'frequency', 'fee_type'],
  kalshi_events: ['event_ticker', 'series_ticker', 'strike_date', 'title'],
  kalshi_markets: ['ticker', 'status', 'floor_strike', 'cap_strike', 'close_time', 'price_units'],
  polymarket_events: ['event_id', 'slug', 'category', 'active', 'closed'],
  polymarket_conditions: ['condition_id', 'event_id', 'status', 'tick_size', 'question'],
  polymarket_tokens: ['token_id', 'condition_id', 'outcome', 'status'],
  kraken_pairs: ['symbol', 'pair_key', 'wsname', 'status', 'pair_decimals', 'tick_size', 'ordermin'],
};
const OUTCOME_COLUMNS = ['entity', 'fetched', 'inserted', 'changed', 'unchanged', 'delisted', 'invalid', 'duplicate'];

interface SyncCliOptions {
  feed: Feed;
  url?: string;
  series?: string[];
  status?: string[];
  pairs?: string[];
  activeOnly?: boolean;
  pageSize?: number;
}

function positiveInt(option: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${option}: expected a positive integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
}

function usage(message: string): SsmdError {
  return new SsmdError(message, { code: 'USAGE' });
}

function runSync(o: SyncCliOptions, base: SyncOptions, db: Parameters<typeof syncKalshiInstruments>[0]): Promise<SyncResult> {
  const only = (flag: string, given: boolean, feed: Feed) => {
    if (given && o.feed !== feed) throw usage(`${flag} applies to --feed ${feed} only`);
  };
  only('--series', o.series !== undefined, 'kalshi');
  only('--status', o.status !== undefined, 'kalshi');
  only('--pairs', o.pairs !== undefined, 'kraken');
  only('--active-only', o.activeOnly === true, 'polymarket');
  if (o.feed === 'kalshi') {
    return syncKalshiInstruments(db, { ...base, select: { ...(o.series ? { series: o.series } : {}), ...(o.status ? { status: o.status as KalshiEventStatus[] } : {}) } }) as Promise<SyncResult>;
  }
  if (o.feed === 'polymarket') return syncPolymarketInstruments(db, { ...base, ...(o.activeOnly ? { select: { active: true, closed: false } } : {}) }) as Promise<SyncResult>;
  return syncKrakenInstruments(db, { ...base, ...(o.pairs ? { select: { pairs: o.pairs } } : {}) }) as Promise<SyncResult>;
}

function renderSync(r: SyncResult): string {
  const rows = Object.entries(r.outcomes).map(([entity, c]) => ({ entity, fetched: r.fetched[entity as SecmasterEntity], ...c }));
  const head = `${r.feed} secmaster sync (${r.full ? 'full' : 'filtered: nothing delisted'}) run ${r.runId} at ${r.at.toISOString()}`;
  const samples = r.invalid.samples.map((s) => `  ${s.entity}${s.key === undefined ? '' : ` ${s.key}`}: ${s.reason}`);
  return [head, table(rows, OUTCOME_COLUMNS), ...(samples.length > 0 ? [`invalid rows (${r.invalid.count}; first ${samples.length}):`, ...samples] : [])].join('\n');
}

/** Each version of one instrument: the first in full, later ones as the columns that changed. */
function renderHistory(entity: SecmasterEntity, key: string, versions: ReadonlyArray<Record<string, unknown>>): string {
  const cols = Object.keys(SECMASTER[entity].columns);
  const show = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const out = [`${entity} ${key}: ${versions.length} version${versions.length === 1 ? '' : 's'}`];
  versions.forEach((v, i) => {
    out.push(`#${i + 1}  ${show(v.valid_from)} → ${v.valid_to ? show(v.valid_to) : 'open'}  run ${show(v.run_id)}`);
    const prev = versions[i - 1];
    for (const c of cols) {
      if (prev === undefined) out.push(`    ${c.padEnd(24)} ${show(v[c])}`);
      else if (show(prev[c]) !== show(v[c])) out.push(`    ${c.padEnd(24)} ${show(prev[c])} → ${show(v[c])}`);
    }
  });
  return out.join('\n');
}

export function registerSecmaster(program: Command, run: Runner): void {
  const codeVersion = program.version() ?? 'dev';
  const secmaster = program.command('secmaster').description('The securities master: venue reference data as a time series (sync, history, as-of).')
    .addHelpText('after', `
Examples:
  ssmd secmaster sync --feed kalshi --series KXBTCD,KXETHD
  ssmd secmaster sync --feed kraken --url http://127.0.0.1:8080
  ssmd secmaster list kraken_pairs --as-of 2026-11-29T14:00:00Z
  ssmd secmaster show kalshi_markets KXBTCD-26NOV30-T98000`);
  const entityArg = () => new Argument('<entity>', 'secmaster table').choices(SECMASTER_ENTITIES);

  secmaster.command('sync')
    .description('Fetch a venue\'s reference data over REST and record it as of now, in one run. A full sync (no filter) delists what the venue no longer returns.')
    .addOption(new Option('--feed <feed>', 'venue').choices(FEEDS).makeOptionMandatory())
    .option('--url <base>', 'REST base URL (default: the venue\'s public endpoint)')
    .option('--series <list>', 'kalshi: only these series, comma-separated (a filtered sync never delists)', list)
    .option('--status <list>', `kalshi: only events with this status (${KALSHI_EVENT_STATUSES.join(', ')})`, list)
    .option('--pairs <list>', 'kraken: only these AssetPairs keys or altnames', list)
    .option('--active-only', 'polymarket: only active, not closed events')
    .option('--page-size <n>', 'rows per page (clamped to each endpoint\'s maximum)', positiveInt('--page-size'))
    .action(run(async (ctx, o: SyncCliOptions) => {
      const { db } = await ctx.catalog();
      const baseUrl = o.url ?? DEFAULT_URL[o.feed];
      ctx.out.note(`syncing ${o.feed} from ${baseUrl} ...`);
      const base: SyncOptions = { baseUrl, clock: new RealClock(), codeVersion, actor: ctx.config.actor, ...(o.pageSize ? { pageSize: o.pageSize } : {}) };
      const result = await runSync(o, base, db);
      ctx.out.result(result, () => renderSync(result));
    }));

  secmaster.command('show').description('Every version of one instrument, oldest first.')
    .addArgument(entityArg())
    .argument('<key>', 'the instrument key (ticker, event_ticker, event_id, condition_id, token_id or symbol)')
    .action(run(async (ctx, entity: SecmasterEntity, key: string) => {
      const { db } = await ctx.catalog();
      const versions = await instrumentHistory(db, entity, key);
      if (versions.length === 0) throw new NotFoundError(`no ${entity} with ${SECMASTER[entity].key[0]} ${key}; see \`ssmd secmaster list ${entity}\``);
      ctx.out.result(versions, () => renderHistory(entity, key, versions as unknown as Array<Record<string, unknown>>));
    }));

  secmaster.command('list').description('The instruments in force at an instant (default now), ordered by key.')
    .addArgument(entityArg())
    .option('--as-of <instant>', 'ISO 8601 instant', instant('--as-of'))
    .option('--limit <n>', 'at most n instruments', positiveInt('--limit'), 100)
    .action(run(async (ctx, entity: SecmasterEntity, o: { asOf?: Date; limit: number }) => {
      const { db } = await ctx.catalog();
      const spec = SECMASTER[entity];
      const at = o.asOf ?? new Date();
      // instrumentsAsOf's predicate, with a LIMIT so a large secmaster is never loaded whole.
      const inForce = sql`valid_from <= ${at} AND (valid_to IS NULL OR valid_to > ${at})`;
      const rows = (await sql<Record<string, unknown>>`SELECT * FROM ${sql.table(spec.table)} WHERE ${inForce} ORDER BY ${sql.ref(spec.key[0])} LIMIT ${o.limit}`.execute(db)).rows;
      const total = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(spec.table)} WHERE ${inForce}`.execute(db)).rows[0]?.n ?? 0;
      if (total > rows.length) ctx.out.note(`showing ${rows.length} of ${total} ${entity} in force at ${at.toISOString()} (--limit)`);
      ctx.out.result(rows, () => table(rows, [...LIST_COLUMNS[entity], 'valid_from']));
    }));
}
