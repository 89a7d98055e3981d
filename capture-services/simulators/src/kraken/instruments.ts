/** A REST AssetPairs entry (the fields protocols.md lists). */
export interface KrakenAssetPair {
  altname: string;
  wsname: string;
  aclass_base: string;
  base: string;
  aclass_quote: string;
  quote: string;
  lot: string;
  cost_decimals: number;
  pair_decimals: number;
  lot_decimals: number;
  lot_multiplier: number;
  fees: Array<[number, number]>;
  fees_maker: Array<[number, number]>;
  fee_volume_currency: string;
  margin_call: number;
  margin_stop: number;
  ordermin: string;
  costmin: string;
  tick_size: string;
  status: string;
  [extra: string]: unknown;
}

/** A simulated pair: its AssetPairs key and entry, its WS v2 symbol and the mid price it starts from. */
export interface KrakenInstrument {
  key: string;
  /** WS v2 symbol (`BTC/USD`; AssetPairs' `wsname` says `XBT/USD`). */
  symbol: string;
  pair: KrakenAssetPair;
  /** Starting mid price (a decimal string with the pair's decimals). */
  price: string;
}

const FEES: Array<[number, number]> = [[0, 0.4], [10000, 0.35], [50000, 0.24], [100000, 0.22], [250000, 0.2], [500000, 0.18]];
const FEES_MAKER: Array<[number, number]> = [[0, 0.25], [10000, 0.2], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08]];

function pair(key: string, symbol: string, p: { altname: string; wsname: string; base: string; pairDecimals: number; ordermin: string; price: string }): KrakenInstrument {
  return {
    key, symbol, price: p.price,
    pair: {
      altname: p.altname, wsname: p.wsname, aclass_base: 'currency', base: p.base, aclass_quote: 'currency', quote: 'ZUSD',
      lot: 'unit', cost_decimals: 5, pair_decimals: p.pairDecimals, lot_decimals: 8, lot_multiplier: 1, fees: FEES,
      fees_maker: FEES_MAKER, fee_volume_currency: 'ZUSD', margin_call: 80, margin_stop: 40, ordermin: p.ordermin,
      costmin: '0.5', tick_size: (10 ** -p.pairDecimals).toFixed(p.pairDecimals), status: 'online',
    },
  };
}

/** Plausible pairs covering 1, 2 and 4 price decimals (so `0.5660`-style text appears). */
export const DEFAULT_KRAKEN_INSTRUMENTS: readonly KrakenInstrument[] = [
  pair('XXBTZUSD', 'BTC/USD', { altname: 'XBTUSD', wsname: 'XBT/USD', base: 'XXBT', pairDecimals: 1, ordermin: '0.00005', price: '65360.0' }),
  pair('XETHZUSD', 'ETH/USD', { altname: 'ETHUSD', wsname: 'ETH/USD', base: 'XETH', pairDecimals: 2, ordermin: '0.002', price: '1907.30' }),
  pair('SOLUSD', 'SOL/USD', { altname: 'SOLUSD', wsname: 'SOL/USD', base: 'SOL', pairDecimals: 2, ordermin: '0.02', price: '79.85' }),
  pair('POLUSD', 'POL/USD', { altname: 'POLUSD', wsname: 'POL/USD', base: 'POL', pairDecimals: 4, ordermin: '15', price: '0.5660' }),
];
