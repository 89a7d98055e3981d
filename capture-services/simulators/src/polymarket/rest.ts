import { boolParam, intParam, json } from '../common/rest.js';
import type { RestHandler, RestReply } from '../common/rest.js';
import type { GammaEvent, GammaMarket, PolymarketInstruments } from './instruments.js';
import { GAMMA_MAX_LIMIT } from './protocol.js';

/** Gamma discovery: `GET /markets` and `GET /events`, offset/limit pagination, plain JSON arrays. */
export function gammaRest(inst: PolymarketInstruments): RestHandler {
  const allMarkets = (): GammaMarket[] => inst.events.flatMap((e) => e.markets);
  return (path, q) => {
    if (path === '/markets') {
      const volMin = Number(q.get('volume_num_min') ?? Number.NEGATIVE_INFINITY);
      const liqMin = Number(q.get('liquidity_num_min') ?? Number.NEGATIVE_INFINITY);
      const rows = allMarkets().filter((m) => statusMatches(m, q) && m.volumeNum >= volMin && m.liquidityNum >= liqMin);
      return page(q, rows);
    }
    if (path === '/events') return page(q, inst.events.filter((e: GammaEvent) => statusMatches(e, q)));
    return undefined;
  };
}

function statusMatches(row: { active: boolean; closed: boolean }, q: URLSearchParams): boolean {
  const active = boolParam(q, 'active');
  const closed = boolParam(q, 'closed');
  return (active === undefined || row.active === active) && (closed === undefined || row.closed === closed);
}

/** `limit` defaults to and is clamped at 100 (our choice; protocols.md only says at most 100 per page). */
function page(q: URLSearchParams, rows: readonly unknown[]): RestReply {
  const limit = intParam(q, 'limit', GAMMA_MAX_LIMIT);
  const offset = intParam(q, 'offset', 0);
  if (!Number.isInteger(limit) || limit < 0 || !Number.isInteger(offset) || offset < 0) {
    return json(400, { error: 'limit and offset must be non-negative integers' });
  }
  return json(200, rows.slice(offset, offset + Math.min(limit, GAMMA_MAX_LIMIT)));
}
