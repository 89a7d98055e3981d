import type { Kysely } from 'kysely';
import type { Database } from '../../../../catalog/src/database.js';
import { FieldReader, isRecord, kindOf, stringList } from '../fields.js';
import { RestClient, offsetPages, safeUrl } from '../http.js';
import { runInstrumentSync, type InstrumentSink, type Mapped, type SyncOptions, type SyncResult } from '../secmaster-sync.js';

/** protocols.md 3(b): Gamma REST (discovery). */
export const GAMMA_REST_URL = 'https://gamma-api.polymarket.com';
export const POLYMARKET_ENTITIES = ['polymarket_events', 'polymarket_conditions', 'polymarket_tokens'] as const;
export type PolymarketEntity = (typeof POLYMARKET_ENTITIES)[number];
/** protocols.md: offset/limit with at most 100 per page. */
const GAMMA_MAX_LIMIT = 100;

/** Narrow a sync with Gamma's own filters. Any filter makes it partial: it never delists. */
export interface PolymarketSelect {
  /** `active=` (the discovery client asks `active=true&closed=false`). */
  active?: boolean;
  closed?: boolean;
}

export interface PolymarketSyncOptions extends SyncOptions {
  select?: PolymarketSelect;
}

/**
 * Sync Polymarket from Gamma `GET /events` (offset pages of at most 100, stopping at the first short page) into
 * `polymarket_events`, their nested markets into `polymarket_conditions` (one per `conditionId`) and each market's
 * `clobTokenIds` into `polymarket_tokens` (outcome by index).
 */
export async function syncPolymarketInstruments(db: Kysely<Database>, options: PolymarketSyncOptions): Promise<SyncResult<PolymarketEntity>> {
  const select = options.select?.active === undefined && options.select?.closed === undefined ? undefined : options.select;
  const baseUrl = options.baseUrl ?? GAMMA_REST_URL;
  const rest = new RestClient(baseUrl, options);
  const limit = Math.min(GAMMA_MAX_LIMIT, Math.max(1, Math.floor(options.pageSize ?? GAMMA_MAX_LIMIT)));
  return runInstrumentSync(db, {
    feed: 'polymarket', entities: POLYMARKET_ENTITIES, full: select === undefined, options,
    params: { baseUrl: safeUrl(baseUrl), select: select ?? null, pageSize: limit },
  }, async (sink) => {
    for await (const page of offsetPages(rest, '/events', { active: select?.active, closed: select?.closed }, limit)) {
      for (const raw of page) await syncEvent(sink, raw);
    }
  });
}

async function syncEvent(sink: InstrumentSink<PolymarketEntity>, raw: unknown): Promise<void> {
  const event = mapGammaEvent(raw);
  await sink.accept('polymarket_events', event);
  if (!isRecord(raw)) return;
  const eventId = event.ok ? (event.row.event_id ?? null) : (event.key ?? null);
  const markets = raw.markets ?? [];
  if (!Array.isArray(markets)) {
    await sink.accept('polymarket_conditions', { ok: false, reason: `event ${eventId ?? '?'}: markets: expected an array, got ${kindOf(markets)}` });
    return;
  }
  for (const m of markets) {
    const { condition, tokens } = mapGammaMarket(m, eventId);
    await sink.accept('polymarket_conditions', condition);
    for (const t of tokens) await sink.accept('polymarket_tokens', t);
  }
}

/** Only `{id, label, slug}` of each tag: Gamma tags also carry timestamps that would make a version per edit. */
function tagList(v: unknown): Array<{ id: string | null; label: string | null; slug: string | null }> | undefined {
  if (!Array.isArray(v) || !v.every(isRecord)) return undefined;
  const s = (x: unknown): string | null => (typeof x === 'string' ? x : typeof x === 'number' ? String(x) : null);
  return v.map((t) => ({ id: s(t.id), label: s(t.label), slug: s(t.slug) }));
}

/** Gamma event → `polymarket_events`; `category` falls back to the first tag's label (protocols.md: take it from tags). */
export function mapGammaEvent(raw: unknown): Mapped<'polymarket_events'> {
  if (!isRecord(raw)) return { ok: false, reason: `event: expected an object, got ${kindOf(raw)}` };
  const f = new FieldReader(raw);
  const id = f.key('id', { numbers: true });
  const tags = f.json('tags', tagList, 'an array of tag objects');
  return f.done(id, {
    event_id: id, slug: f.text('slug'), title: f.text('title'), category: f.text('category') || (tags?.[0]?.label ?? null), tags,
    active: f.bool('active'), closed: f.bool('closed'), neg_risk: f.bool('negRisk'), start_date: f.time('startDate'), end_date: f.time('endDate'),
  });
}

/**
 * protocols.md status mapping: closed with a winningOutcome → settled; closed → closed; active=false → inactive;
 * acceptingOrders=false → suspended; otherwise active.
 */
export function conditionStatus(m: { closed: boolean | null; winningOutcome: string | null; active: boolean | null; acceptingOrders: boolean | null }): string {
  if (m.closed === true) return m.winningOutcome ? 'settled' : 'closed';
  if (m.active === false) return 'inactive';
  if (m.acceptingOrders === false) return 'suspended';
  return 'active';
}

/**
 * A Gamma market → its `polymarket_conditions` row and one `polymarket_tokens` row per token id. `clobTokenIds`
 * and `outcomes` may be JSON arrays encoded as strings or real arrays (protocols.md); token ids must be strings
 * (a 77-digit JSON number has already lost its digits). A malformed market yields no tokens.
 */
export function mapGammaMarket(raw: unknown, eventId: string | null): { condition: Mapped<'polymarket_conditions'>; tokens: Array<Mapped<'polymarket_tokens'>> } {
  if (!isRecord(raw)) return { condition: { ok: false, reason: `market: expected an object, got ${kindOf(raw)}` }, tokens: [] };
  const f = new FieldReader(raw);
  const conditionId = f.key('conditionId');
  const tokenIds = f.json('clobTokenIds', stringList, 'an array of token id strings (or one JSON-encoded)');
  const outcomes = f.json('outcomes', stringList, 'an array of strings (or one JSON-encoded)');
  for (const t of tokenIds ?? []) if (!/^\d+$/.test(t)) f.fail(`clobTokenIds: expected decimal token ids, got ${JSON.stringify(t.slice(0, 40))}`);
  if (tokenIds !== null && new Set(tokenIds).size !== tokenIds.length) f.fail('clobTokenIds: repeats a token id');
  const closed = f.bool('closed');
  const winningOutcome = f.text('winningOutcome');
  const status = conditionStatus({ closed, winningOutcome, active: f.bool('active'), acceptingOrders: f.bool('acceptingOrders') });
  const condition = f.done<'polymarket_conditions'>(conditionId, {
    condition_id: conditionId, event_id: eventId, question_id: f.text('questionID'), question: f.text('question'), slug: f.text('slug'), status,
    neg_risk: f.bool('negRisk'), tick_size: f.decimal('orderPriceMinTickSize'), min_order_size: f.decimal('orderMinSize'),
    outcomes, token_ids: tokenIds, end_date: f.time('endDate'), winning_outcome: winningOutcome,
  });
  if (!condition.ok) return { condition, tokens: [] };
  const tokens = (tokenIds ?? []).map((tokenId, i): Mapped<'polymarket_tokens'> => ({
    ok: true, row: { token_id: tokenId, condition_id: conditionId, outcome: outcomes?.[i] ?? null, outcome_index: i, status },
  }));
  return { condition, tokens };
}
