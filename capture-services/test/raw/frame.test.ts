import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeArchiveLine, encodeArchiveLine, fromJournalMessage, toJournalRecord, type RawFrame } from '../../raw/src/frame.js';

const base = (bytes: Uint8Array): RawFrame => ({
  env: 'lab', feed: 'kraken', shard: 0, conn: 'kraken-0-1-1', connSeq: 7, recvNs: 1764470000123456789n, type: 'book', symbol: 'BTC/USD', bytes, journalSeq: 42,
});

describe('raw frames are kept byte-exact through the journal record and the archive line', () => {
  const fixtures = readFileSync(join(import.meta.dirname, '../fixtures/real/kalshi_ticker.jsonl'), 'utf8').split('\n').filter(Boolean);
  const cases: Array<[string, Uint8Array]> = [
    ['real Kalshi frame', Buffer.from(fixtures[0]!)],
    ['exact decimal text', Buffer.from('{"channel":"book","data":[{"bids":[{"price":0.5660,"qty":1.00000000}]}]}')],
    ['JSON with spaces', Buffer.from('{ "a" : 1.50 ,  "b":[1,2] }')],
    ['pretty JSON with newlines', Buffer.from('{\n  "a": 1\n}')],
    ['text PONG', Buffer.from('PONG')],
    ['a JSON scalar', Buffer.from('1.0')],
    ['truncated JSON', Buffer.from('{"type":"ticker","msg":{"pri')],
    ['invalid UTF-8', Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])],
    ['empty', new Uint8Array()],
  ];
  for (const [name, bytes] of cases) {
    it(name, () => {
      const f = base(bytes);
      const line = encodeArchiveLine(f);
      expect(line).not.toMatch(/\n/);
      expect(JSON.parse(line)).toBeTypeOf('object');
      const back = decodeArchiveLine('lab', 'kraken', line);
      expect(Buffer.from(back.bytes).equals(Buffer.from(bytes))).toBe(true);
      expect(back).toMatchObject({ conn: f.conn, connSeq: 7, recvNs: f.recvNs, shard: 0, type: 'book', symbol: 'BTC/USD', journalSeq: 42 });
    });
  }

  it('embeds valid one-line JSON verbatim', () => {
    const line = encodeArchiveLine(base(Buffer.from('{"price":0.5660}')));
    expect(line.endsWith(',"m":{"price":0.5660}}')).toBe(true);
  });

  it('round-trips through a journal record and message', () => {
    const f = base(Buffer.from('{"x":1}'));
    const rec = toJournalRecord(f);
    expect(rec.subject).toBe('lab.kraken.raw.book.BTC~2FUSD');
    expect(rec.msgId).toBe('kraken-0-1-1:7');
    const back = fromJournalMessage('lab', 'kraken', { stream: 'S', subject: rec.subject, data: rec.data, seq: 9, timestamp: 0, headers: rec.headers! });
    expect(back).toMatchObject({ conn: f.conn, connSeq: 7, recvNs: f.recvNs, shard: 0, type: 'book', symbol: 'BTC/USD', journalSeq: 9 });
    expect(() => fromJournalMessage('lab', 'kraken', { stream: 'S', subject: 'x', data: new Uint8Array(), seq: 1, timestamp: 0, headers: {} })).toThrow(/not a raw frame/);
  });
});
