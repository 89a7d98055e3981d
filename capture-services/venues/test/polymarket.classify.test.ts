import { describe, expect, it } from 'vitest';
import { classify } from '../src/polymarket/messages.js';
import { describeClassifier, realLines } from './classify-suite.js';

const book = realLines('polymarket_book.jsonl');
const trade = realLines('polymarket_trade.jsonl');

describe('polymarket classify: real captures', () => {
  it.each([
    ['polymarket_book.jsonl', book, 'book'],
    ['polymarket_trade.jsonl', trade, 'last_trade_price'],
  ] as const)('every frame of %s is data with its asset id', (_file, lines, type) => {
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const m = JSON.parse(line) as { asset_id: string };
      expect(classify(Buffer.from(line))).toEqual({ kind: 'data', type, symbol: m.asset_id });
    }
  });

  it('the captured books wrapped in one array frame (as initial snapshots arrive) are a book', () => {
    const first = JSON.parse(book[0] as string) as { asset_id: string };
    expect(classify(Buffer.from(`[${book.join(',')}]`))).toEqual({ kind: 'data', type: 'book', symbol: first.asset_id });
  });

  it('Kraken Futures frames are unknown to Polymarket, without a crash', () => {
    for (const line of [...realLines('kraken-futures_ticker.jsonl'), ...realLines('kraken-futures_trade.jsonl')]) {
      expect(classify(Buffer.from(line)).kind).toBe('unknown');
    }
  });
});

describeClassifier('polymarket', classify, [...book, ...trade]);
