import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify } from '../src/kraken/messages.js';
import { describeClassifier, realLines } from './classify-suite.js';

const futures = [...realLines('kraken-futures_ticker.jsonl'), ...realLines('kraken-futures_trade.jsonl')];
const spot = (JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'kraken', 'ws_book.json'), 'utf8')) as { variants: Array<{ text: string }> }).variants.map((v) => v.text);

describe('kraken classify: real captures', () => {
  it('Kraken Futures v1 frames are not spot v2: unknown, without a crash', () => {
    expect(futures.length).toBeGreaterThan(0);
    for (const line of futures) expect(classify(Buffer.from(line))).toMatchObject({ kind: 'unknown', type: 'unknown', symbol: '_' });
  });

  it('classification only reads: the bytes keep their exact decimal text', () => {
    const bytes = Buffer.from(spot[0] as string);
    const copy = Buffer.from(bytes);
    classify(bytes);
    expect(bytes.equals(copy)).toBe(true);
    expect(bytes.toString()).toContain('"price":0.5660');
  });
});

describeClassifier('kraken', classify, spot);
