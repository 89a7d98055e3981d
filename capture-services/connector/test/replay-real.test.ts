import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RealClock } from '../../../core/src/middleware/clock.js';
import { MemoryFindingSink } from '../../../core/src/middleware/findings.js';
import type { Journal } from '../../../core/src/middleware/journal.js';
import { BufferedPublisher } from '../../../core/src/middleware/journal/buffered-publisher.js';
import { openLocalJournal } from '../../../core/src/middleware/journal/local.js';
import { fromJournalMessage, type RawFrame } from '../../raw/src/frame.js';
import type { SimulatorHandle } from '../../simulators/src/index.js';
import { startKalshiSimulator, startPolymarketSimulator } from '../../simulators/src/index.js';
import type { Classification } from '../../venues/src/classification.js';
import { KalshiFeed, classify as classifyKalshi } from '../../venues/src/kalshi/index.js';
import { PolymarketFeed, classify as classifyPolymarket } from '../../venues/src/polymarket/index.js';
import type { WsFeedBase } from '../../venues/src/ws-feed-base.js';
import { captureShard, newCaptureStats } from '../src/capture.js';

const REAL = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'real');
const linesOf = (file: string) => readFileSync(join(REAL, file), 'utf8').split('\n').filter((l) => l.trim() !== '');

interface Case {
  file: string;
  feed: 'kalshi' | 'polymarket';
  type: string;
  /** The instrument a line is about, as the classifier should report it. */
  symbolOf: (line: Record<string, unknown>) => string;
  start: (file: string) => Promise<SimulatorHandle>;
  connect: (sim: SimulatorHandle, lines: string[], signal: AbortSignal) => WsFeedBase;
  classify: (bytes: Uint8Array) => Classification;
  /** Compare a journaled frame with a capture line (Kalshi's simulator rewrites `sid` to the client's). */
  same: (journaled: string, line: string) => boolean;
}

const clock = new RealClock();
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kalshiKeys = { 'key-1': publicKey.export({ type: 'spki', format: 'pem' }) as string };
const kalshiPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const noSid = (s: string) => s.replace(/"sid":\s*\d+/, '"sid":0');
const tickerOf = (l: Record<string, unknown>) => String((l.msg as Record<string, unknown>).market_ticker);

const kalshi = (channel: 'ticker' | 'trade'): Omit<Case, 'file' | 'type'> => ({
  feed: 'kalshi', symbolOf: tickerOf, classify: classifyKalshi, same: (j, l) => noSid(j) === noSid(l),
  start: (file) => startKalshiSimulator({ port: 0, record: true, keys: kalshiKeys, replay: { file: join(REAL, file), rate: 50 } }),
  connect: (sim, lines, signal) => new KalshiFeed({
    url: sim.wsUrl, signal, clock, backoff: { baseMs: 50, capMs: 200 }, credentials: { keyId: 'key-1', privateKeyPem: kalshiPem },
    markets: [...new Set(lines.map((l) => tickerOf(JSON.parse(l) as Record<string, unknown>)))], channels: [channel], globalChannels: [],
  }),
});
const polymarket: Omit<Case, 'file' | 'type'> = {
  feed: 'polymarket', symbolOf: (l) => String(l.asset_id), classify: classifyPolymarket, same: (j, l) => j === l,
  start: (file) => startPolymarketSimulator({ port: 0, record: true, replay: { file: join(REAL, file), rate: 50 } }),
  connect: (sim, lines, signal) => new PolymarketFeed({
    url: sim.wsUrl, signal, clock, backoff: { baseMs: 50, capMs: 200 }, assets: [...new Set(lines.map((l) => String((JSON.parse(l) as Record<string, unknown>).asset_id)))],
  }),
};

const CASES: Case[] = [
  { file: 'kalshi_ticker.jsonl', type: 'ticker', ...kalshi('ticker') },
  { file: 'kalshi_trade.jsonl', type: 'trade', ...kalshi('trade') },
  { file: 'polymarket_book.jsonl', type: 'book', ...polymarket },
  { file: 'polymarket_trade.jsonl', type: 'last_trade_price', ...polymarket },
];

describe('real captures replayed through the simulators are captured and classified', () => {
  let dir: string;
  let journal: Journal;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssmd-replay-real-'));
    journal = await openLocalJournal({ dir: join(dir, 'journal') });
  });
  afterEach(async () => {
    await journal.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(CASES)('$file: every line journaled once, as $type, with no unknown-message or malformed findings', async (c) => {
    const stream = `LAB_${c.feed.toUpperCase()}_RAW`;
    await journal.ensureStreams([{ name: stream, subjects: [`lab.${c.feed}.raw.>`], maxAgeMs: 0, maxBytes: -1, discard: 'old', duplicateWindowMs: 120_000 }]);
    const lines = linesOf(c.file);
    expect(lines.length).toBeGreaterThan(0);
    const sim = await c.start(c.file);
    try {
      const findings = new MemoryFindingSink();
      const publisher = new BufferedPublisher(journal, { maxBufferBytes: 8 << 20, policy: 'block', clock, findings });
      const ac = new AbortController();
      const stats = newCaptureStats();
      const feed = c.connect(sim, lines, ac.signal);
      const running = captureShard({ env: 'lab', feed: c.feed, shard: 0, events: feed.events(), classify: c.classify, publisher, findings, clock, stats, reportWindowMs: 10 });
      await expect.poll(() => stats.byKind.data + stats.byKind.unknown + stats.byKind.malformed, { timeout: 10_000 }).toBeGreaterThanOrEqual(lines.length);
      ac.abort();
      await running;
      await publisher.close();

      const frames: RawFrame[] = [];
      for await (const m of journal.consume({ stream, from: 'first', untilCaughtUp: true })) frames.push(fromJournalMessage('lab', c.feed, m));
      expect(frames.length).toBe(stats.frames);
      expect(frames.map((f) => f.connSeq)).toEqual(frames.map((_, i) => i + 1)); // one connection, contiguous
      // The simulator sent each line once, and each was journaled once with its type and instrument.
      const sent = sim.sent().map((s) => s.text);
      expect(frames.map((f) => Buffer.from(f.bytes).toString('utf8'))).toEqual(sent);
      for (const line of lines) {
        const hits = frames.filter((f) => c.same(Buffer.from(f.bytes).toString('utf8'), line));
        expect(hits.length, `${c.file}: ${line.slice(0, 80)}`).toBe(1);
        expect(hits[0]!.type).toBe(c.type);
        expect(hits[0]!.symbol).toBe(c.symbolOf(JSON.parse(line) as Record<string, unknown>));
      }
      expect(stats.byKind.data).toBe(lines.length);
      expect(stats.byKind.unknown).toBe(0);
      expect(stats.byKind.malformed).toBe(0);
      const kinds = findings.findings.map((f) => f.kind);
      expect(kinds).not.toContain('unknown_message');
      expect(kinds).not.toContain('malformed_frame');
    } finally {
      await sim.close();
    }
  }, 20_000);
});
