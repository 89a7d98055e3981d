import { describe, expect, it } from 'vitest';
import {
  escapeToken, parseRawSubject, patternCovers, rawFeedFilter, rawStreamName, rawSubject, rawTypeFilter, subjectMatches, subjectToTopic, topicToSubject, unescapeToken,
} from '../../src/middleware/subjects.js';

describe('subject naming', () => {
  it('escapes tokens reversibly and without collisions', () => {
    const symbols = ['BTC/USD', 'BTC-USD', 'BTC_USD', 'KXBTCD-26NOV30-T98000', 'a.b', 'a*b', 'a>b', 'x y', 'é', '~', '', '1049262373297238128386137419254567219003836826406985911302436577402786186541'];
    const escaped = symbols.map(escapeToken);
    expect(new Set(escaped).size).toBe(symbols.length);
    for (const e of escaped) expect(e).toMatch(/^[A-Za-z0-9_~-]+$/);
    expect(escaped.map(unescapeToken)).toEqual(symbols);
    expect(escapeToken('BTC/USD')).toBe('BTC~2FUSD');
  });

  it('builds and parses raw subjects', () => {
    const parts = { env: 'homelab', feed: 'kraken', type: 'book', symbol: 'BTC/USD' };
    const s = rawSubject(parts);
    expect(s).toBe('homelab.kraken.raw.book.BTC~2FUSD');
    expect(parseRawSubject(s)).toEqual(parts);
    expect(parseRawSubject('a.b.c')).toBeUndefined();
    expect(subjectMatches(rawFeedFilter('homelab', 'kraken'), s)).toBe(true);
    expect(subjectMatches(rawFeedFilter('homelab', 'kalshi'), s)).toBe(false);
    expect(rawStreamName('homelab', 'kraken')).toBe('HOMELAB_KRAKEN_RAW');
    expect(rawTypeFilter('homelab', 'poly-crypto', 'last_trade_price')).toBe('homelab.poly-crypto.raw.last_trade_price.*');
    expect(subjectMatches(rawTypeFilter('homelab', 'kraken', 'book'), s)).toBe(true);
  });

  it('matches NATS wildcards', () => {
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.*.c', 'a.b.c.d')).toBe(false);
    expect(subjectMatches('a.>', 'a.b')).toBe(true);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('a.b', 'a.b')).toBe(true);
    expect(subjectMatches('a.b', 'a.c')).toBe(false);
  });

  it('decides whether one pattern covers another', () => {
    expect(patternCovers('lab.kraken.raw.>', 'lab.kraken.raw.book.*')).toBe(true);
    expect(patternCovers('lab.kraken.raw.>', 'lab.kraken.raw.book.BTC')).toBe(true);
    expect(patternCovers('lab.kraken.raw.*.BTC', 'lab.kraken.raw.*.BTC')).toBe(true);
    expect(patternCovers('lab.kraken.raw.book.*', 'lab.kraken.raw.>')).toBe(false);
    expect(patternCovers('lab.kraken.raw.book.BTC', 'lab.kraken.raw.book.*')).toBe(false);
    expect(patternCovers('lab.kalshi.raw.>', 'lab.kraken.raw.book.BTC')).toBe(false);
  });

  it('maps subjects to MQTT topics and back', () => {
    expect(subjectToTopic('lab.kraken.raw.book.BTC~2FUSD')).toBe('ssmd/lab/kraken/raw/book/BTC~2FUSD');
    expect(subjectToTopic('lab.*.raw.>')).toBe('ssmd/lab/+/raw/#');
    expect(topicToSubject('ssmd/lab/+/raw/#')).toBe('lab.*.raw.>');
    expect(() => topicToSubject('other/x')).toThrow(/outside the ssmd\/ namespace/);
  });
});
