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
import { startKrakenSimulator } from '../../simulators/src/index.js';
import { KrakenFeed, classify } from '../../venues/src/kraken/index.js';
import { captureShard } from '../src/capture.js';

type Sim = Awaited<ReturnType<typeof startKrakenSimulator>>;

async function journaled(journal: Journal): Promise<RawFrame[]> {
  const out: RawFrame[] = [];
  for await (const m of journal.consume({ stream: 'LAB_KRAKEN_RAW', from: 'first', untilCaughtUp: true })) out.push(fromJournalMessage('lab', 'kraken', m));
  return out;
}

describe('capture: Kraken simulator -> feed -> journal', () => {
  let dir: string;
  let journal: Journal;
  let sim: Sim;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssmd-capture-'));
    journal = await openLocalJournal({ dir: join(dir, 'journal') });
    await journal.ensureStreams([{ name: 'LAB_KRAKEN_RAW', subjects: ['lab.kraken.raw.>'], maxAgeMs: 0, maxBytes: -1, discard: 'old', duplicateWindowMs: 120_000 }]);
    sim = await startKrakenSimulator({ port: 0, record: true, rate: 400, seed: 7 });
  });
  afterEach(async () => {
    await sim.close();
    await journal.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('journals every frame byte-exact exactly once, in order per connection, through a disconnect and a malformed frame', async () => {
    const clock = new RealClock();
    const findings = new MemoryFindingSink();
    const publisher = new BufferedPublisher(journal, { maxBufferBytes: 8 << 20, policy: 'block', clock, findings });
    const ac = new AbortController();
    const feed = new KrakenFeed({ url: sim.wsUrl, symbols: ['BTC/USD', 'ETH/USD'], signal: ac.signal, clock, backoff: { baseMs: 50, capMs: 200 } });
    const running = captureShard({ env: 'lab', feed: 'kraken', shard: 0, events: feed.events(), classify, publisher, findings, clock, reportWindowMs: 10 });

    await expect.poll(() => sim.stats().framesSent, { timeout: 10_000 }).toBeGreaterThan(300);
    sim.inject({ kind: 'disconnect' });
    await expect.poll(() => sim.stats().connections, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    const before = sim.stats().framesSent;
    await expect.poll(() => sim.stats().framesSent, { timeout: 10_000 }).toBeGreaterThan(before + 200);
    sim.inject({ kind: 'malformed', variant: 'truncated-json' });
    const afterBad = sim.stats().framesSent;
    await expect.poll(() => sim.stats().framesSent, { timeout: 10_000 }).toBeGreaterThan(afterBad + 100);
    ac.abort();
    const stats = await running;
    await publisher.close();

    const frames = await journaled(journal);
    expect(frames.length).toBe(stats.frames);
    // Per connection: contiguous connSeq from 1, and the simulator's frames appear byte-exact, in order, once.
    const byConn = new Map<string, RawFrame[]>();
    for (const f of frames) byConn.set(f.conn, [...(byConn.get(f.conn) ?? []), f]);
    expect(byConn.size).toBeGreaterThanOrEqual(2);
    for (const list of byConn.values()) expect(list.map((f) => f.connSeq)).toEqual(list.map((_, i) => i + 1));
    const simByConn = new Map<string, string[]>();
    for (const s of sim.sent()) simByConn.set(s.connectionId, [...(simByConn.get(s.connectionId) ?? []), s.text]);
    const ours = [...byConn.values()].map((l) => l.map((f) => Buffer.from(f.bytes).toString('utf8')));
    const theirs = [...simByConn.values()];

    expect(ours.length).toBe(theirs.length);
    for (let i = 0; i < theirs.length; i++) {
      let k = 0;
      for (const text of ours[i]!) if (text === theirs[i]![k]) k += 1; // theirs must be a subsequence of ours (ours adds acks/heartbeats)
      expect(k, `connection ${i}: ${k} of ${theirs[i]!.length} simulator frames found in order`).toBe(theirs[i]!.length);
    }
    // Faults became findings; capture kept running after the malformed frame.
    const kinds = findings.findings.map((f) => f.kind);
    expect(kinds).toContain('gap');
    expect(kinds).toContain('malformed_frame');
    expect(stats.byKind.malformed).toBe(1);
    expect(stats.byKind.data).toBeGreaterThan(500);
  });
});
