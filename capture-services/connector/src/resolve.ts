import type { Kysely } from 'kysely';
import type { Feed, KalshiFeed, PolymarketFeed } from '../../../core/src/environment/schema.js';
import type { Database } from '../../../catalog/src/database.js';
import { instrumentsAsOf } from '../../../catalog/src/secmaster/secmaster.repository.js';

/** What a feed will subscribe to, and anything in the selection that the secmaster does not know. */
export interface ResolvedInstruments {
  instruments: string[];
  /** Explicitly selected instruments that are absent from the secmaster at `at` (subscribed anyway for Kraken). */
  unknown: string[];
}

/** Kalshi market statuses the environment's `status` selects (the venue reports several spellings). */
const KALSHI_STATUS: Record<KalshiFeed['select']['status'], string[]> = {
  unopened: ['unopened', 'initialized'],
  open: ['open', 'active'],
  closed: ['closed', 'inactive'],
  settled: ['settled', 'determined', 'finalized'],
};

async function kalshi(db: Kysely<Database>, f: KalshiFeed, at: Date): Promise<ResolvedInstruments> {
  const s = f.select;
  const markets = await instrumentsAsOf(db, 'kalshi_markets', at);
  const statuses = KALSHI_STATUS[s.status];
  const byFilter = markets.filter((m) => statuses.includes(m.status ?? '')
    && (s.series.length === 0 || s.series.includes(m.series_ticker ?? ''))
    && (s.events.length === 0 || s.events.includes(m.event_ticker ?? ''))
    && (s.markets.length === 0 || s.markets.includes(m.ticker)));
  const known = new Set(markets.map((m) => m.ticker));
  return { instruments: byFilter.map((m) => m.ticker), unknown: s.markets.filter((t) => !known.has(t)) };
}

async function polymarket(db: Kysely<Database>, f: PolymarketFeed, at: Date): Promise<ResolvedInstruments> {
  const s = f.select;
  const [events, conditions, tokens] = await Promise.all([
    instrumentsAsOf(db, 'polymarket_events', at), instrumentsAsOf(db, 'polymarket_conditions', at), instrumentsAsOf(db, 'polymarket_tokens', at),
  ]);
  const tagged = new Set(events.filter((e) => {
    const tags = Array.isArray(e.tags) ? (e.tags as Array<{ slug?: string } | string>).map((t) => (typeof t === 'string' ? t : t.slug ?? '')) : [];
    return (s.tags.length > 0 && tags.some((t) => s.tags.includes(t))) || (s.slugs.length > 0 && s.slugs.includes(e.slug ?? ''));
  }).map((e) => e.event_id));
  const anyFilter = s.tags.length + s.slugs.length + s.condition_ids.length + s.token_ids.length > 0;
  const wanted = new Set(conditions.filter((c) => (!s.active || c.status === 'active')
    && (!anyFilter || tagged.has(c.event_id ?? '') || s.slugs.includes(c.slug ?? '') || s.condition_ids.includes(c.condition_id))).map((c) => c.condition_id));
  const chosen = tokens.filter((t) => wanted.has(t.condition_id ?? '') || s.token_ids.includes(t.token_id)).map((t) => t.token_id);
  const known = new Set(tokens.map((t) => t.token_id));
  return { instruments: [...new Set(chosen)], unknown: s.token_ids.filter((t) => !known.has(t)) };
}

/**
 * The instruments a feed captures at `at`, from the environment's selection and the secmaster as
 * of that instant. Kraken pairs are taken from the selection as written (the venue rejects an
 * unknown pair with a per-symbol error, which becomes a finding); those missing from the
 * secmaster are reported.
 */
export async function resolveInstruments(db: Kysely<Database>, feed: Feed, at: Date): Promise<ResolvedInstruments> {
  switch (feed.feed) {
    case 'kalshi':
      return kalshi(db, feed, at);
    case 'polymarket':
      return polymarket(db, feed, at);
    case 'kraken': {
      const known = new Set((await instrumentsAsOf(db, 'kraken_pairs', at)).map((p) => p.symbol));
      return { instruments: [...feed.select.pairs], unknown: known.size === 0 ? [] : feed.select.pairs.filter((p) => !known.has(p)) };
    }
  }
}
