import { json, listParam } from '../common/rest.js';
import type { RestHandler } from '../common/rest.js';
import type { KrakenInstrument } from './instruments.js';
import { ASSET_PAIRS_PATH, restError } from './protocol.js';

/** `GET /0/public/AssetPairs[?pair=XBTUSD,ETHUSD]` → `{error:[], result:{PAIRKEY:{...}}}`. */
export function krakenRest(instruments: readonly KrakenInstrument[]): RestHandler {
  return (path, q) => {
    if (path !== ASSET_PAIRS_PATH) return { status: 404, body: restError('EGeneral:Unknown method') };
    const wanted = listParam(q, 'pair');
    const rows = wanted.length === 0 ? instruments : instruments.filter((i) => wanted.includes(i.key) || wanted.includes(i.pair.altname));
    if (wanted.length > 0 && rows.length < wanted.length) return json(200, { error: ['EQuery:Unknown asset pair'] });
    return json(200, { error: [], result: Object.fromEntries(rows.map((i) => [i.key, i.pair])) });
  };
}
