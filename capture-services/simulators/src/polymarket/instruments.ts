import { DEFAULT_START_TIME_MS } from '../common/clock.js';
import { Prng } from '../common/prng.js';

/**
 * A Gamma market as served (protocols.md): `clobTokenIds`, `outcomes` and `outcomePrices` are JSON arrays encoded
 * as strings, `volume` and `liquidity` are strings, `category` is null on `/markets`.
 */
export interface GammaMarket {
  id: string;
  question: string;
  conditionId: string;
  questionID: string;
  slug: string;
  description: string;
  category: string | null;
  outcomes: string;
  outcomePrices: string;
  clobTokenIds: string;
  active: boolean;
  closed: boolean;
  acceptingOrders: boolean;
  negRisk: boolean;
  orderPriceMinTickSize: number;
  orderMinSize: number;
  endDate: string;
  resolutionDate: string | null;
  winningOutcome: string | null;
  volume: string;
  liquidity: string;
  volumeNum: number;
  liquidityNum: number;
  [extra: string]: unknown;
}

export interface GammaEvent {
  id: string;
  title: string;
  slug: string;
  category: string;
  tags: Array<{ id: string; label: string; slug: string }>;
  active: boolean;
  closed: boolean;
  negRisk: boolean;
  markets: GammaMarket[];
  [extra: string]: unknown;
}

export interface PolymarketInstruments {
  events: GammaEvent[];
}

const COINS = [
  { name: 'Bitcoin', sym: 'btc', strike: 68000, step: 2000 },
  { name: 'Ethereum', sym: 'eth', strike: 1900, step: 100 },
  { name: 'Solana', sym: 'sol', strike: 80, step: 5 },
] as const;

/** A token id: a decimal string of 76–77 digits, like the real ones. */
export function tokenId(prng: Prng): string {
  return prng.digits(prng.chance(0.5) ? 76 : 77);
}

export function conditionId(prng: Prng): string {
  return `0x${prng.hex(64)}`;
}

/**
 * Crypto events with `marketsPerEvent` YES/NO markets each. Market prices spread from ~0.04 to ~0.96 so some sit
 * near the extremes where `tick_size_change` happens; the last market of the last event is closed and resolved.
 */
export function makePolymarketInstruments(opts: { seed?: number; startTimeMs?: number; events?: number; marketsPerEvent?: number } = {}): PolymarketInstruments {
  const prng = Prng.derive(opts.seed ?? 1, 'polymarket-instruments');
  const start = opts.startTimeMs ?? DEFAULT_START_TIME_MS;
  const endDate = new Date(start + 24 * 3_600_000).toISOString();
  const nEvents = opts.events ?? 3;
  const perEvent = opts.marketsPerEvent ?? 2;
  const events: GammaEvent[] = [];
  let marketNo = 0;
  for (let e = 0; e < nEvents; e++) {
    const coin = COINS[e % COINS.length] as (typeof COINS)[number];
    const slug = `${coin.sym}-above-on-feb-13${e >= COINS.length ? `-${e}` : ''}`;
    const markets: GammaMarket[] = [];
    for (let m = 0; m < perEvent; m++) {
      const strike = coin.strike + (m - Math.floor(perEvent / 2)) * coin.step;
      const yes = [0.962, 0.5, 0.038, 0.27, 0.73][marketNo % 5] as number;
      const closed = e === nEvents - 1 && m === perEvent - 1;
      const volumeNum = prng.int(1_000, 5_000_000) + prng.int(0, 99) / 100;
      const liquidityNum = prng.int(100, 200_000) + prng.int(0, 99) / 100;
      const tokens = [tokenId(prng), tokenId(prng)];
      markets.push({
        id: String(500_000 + marketNo++), question: `Will ${coin.name} be above $${strike} on February 13?`,
        conditionId: conditionId(prng), questionID: `0x${prng.hex(64)}`, slug: `${slug}-${strike}`,
        description: `Resolves Yes if the ${coin.name} price is above $${strike}.`, category: null,
        outcomes: JSON.stringify(['Yes', 'No']),
        outcomePrices: JSON.stringify(closed ? ['1', '0'] : [String(yes), String(Math.round((1 - yes) * 1000) / 1000)]),
        clobTokenIds: JSON.stringify(tokens), active: true, closed, acceptingOrders: !closed, negRisk: false,
        orderPriceMinTickSize: yes > 0.96 || yes < 0.04 ? 0.001 : 0.01, orderMinSize: 5, endDate,
        resolutionDate: closed ? endDate : null, winningOutcome: closed ? 'Yes' : null,
        volume: volumeNum.toFixed(2), liquidity: liquidityNum.toFixed(2), volumeNum, liquidityNum,
      });
    }
    events.push({
      id: String(20_000 + e), title: `${coin.name} above ___ on February 13?`, slug, category: 'Crypto',
      tags: [{ id: '21', label: 'Crypto', slug: 'crypto' }, { id: String(100 + e), label: coin.name, slug: coin.sym }],
      active: true, closed: markets.every((m) => m.closed), negRisk: false, markets,
    });
  }
  return { events };
}

/** Every market of every event, with its parsed token ids and outcomes. */
export function marketsOf(inst: PolymarketInstruments): Array<{ market: GammaMarket; tokens: string[]; outcomes: string[] }> {
  return inst.events.flatMap((e) => e.markets.map((market) => ({ market, tokens: parseList(market.clobTokenIds), outcomes: parseList(market.outcomes) })));
}

/** Accept both a real array and a JSON-encoded string array (protocols.md: parse defensively). */
export function parseList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v !== 'string') return [];
  try {
    const parsed: unknown = JSON.parse(v);
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}
