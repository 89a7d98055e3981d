import { describe, expect, it } from 'vitest';
import { classify } from '../src/kalshi/messages.js';
import { describeClassifier, realLines } from './classify-suite.js';

const ticker = realLines('kalshi_ticker.jsonl');
const trade = realLines('kalshi_trade.jsonl');

describe('kalshi classify: real captures', () => {
  it.each([
    ['kalshi_ticker.jsonl', ticker, 'ticker'],
    ['kalshi_trade.jsonl', trade, 'trade'],
  ] as const)('every frame of %s is data with its market ticker', (_file, lines, type) => {
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const m = JSON.parse(line) as { sid: number; seq?: number; msg: { market_ticker: string } };
      const c = classify(Buffer.from(line));
      expect(c).toMatchObject({ kind: 'data', type, symbol: m.msg.market_ticker });
      if (type === 'trade') expect(c.exSeq).toEqual({ sid: m.sid, seq: m.seq });
      else expect(c.exSeq).toBeUndefined();
    }
  });

  it('Kraken Futures frames are unknown to Kalshi, without a crash', () => {
    for (const line of [...realLines('kraken-futures_ticker.jsonl'), ...realLines('kraken-futures_trade.jsonl')]) {
      expect(classify(Buffer.from(line)).kind).toBe('unknown');
    }
  });
});

describeClassifier('kalshi', classify, [...ticker, ...trade]);
