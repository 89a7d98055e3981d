import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/middleware/clock.js';
import { MiddlewareUnavailableError } from '../../src/middleware/errors.js';
import { MemoryFindingSink } from '../../src/middleware/findings.js';
import type { Journal, JournalMessage, JournalRecord, PublishAck } from '../../src/middleware/journal.js';
import { BufferedPublisher } from '../../src/middleware/journal/buffered-publisher.js';
import { openLocalJournal } from '../../src/middleware/journal/local.js';

/** A real local journal behind a switch that makes it refuse publishes, as a dead server would. */
function withOutage(inner: Journal): Journal & { down: boolean } {
  const j = {
    down: false,
    kind: inner.kind,
    ensureStreams: (s: Parameters<Journal['ensureStreams']>[0]) => inner.ensureStreams(s),
    verifyCoverage: (s: readonly string[]) => inner.verifyCoverage(s),
    publish: async (r: JournalRecord): Promise<PublishAck> => {
      if (j.down) throw new MiddlewareUnavailableError('test-journal', 'server down');
      return inner.publish(r);
    },
    consume: (o: Parameters<Journal['consume']>[0]) => inner.consume(o),
    info: (s: string) => inner.info(s),
    close: () => inner.close(),
  };
  return j;
}

const frame = (i: number): JournalRecord => ({ subject: 'lab.kraken.raw.trade.BTC~2FUSD', msgId: `c1:${i}`, data: Buffer.from(`{"n":${i},"pad":"${'x'.repeat(250)}"}`) });

async function readAll(journal: Journal): Promise<JournalMessage[]> {
  const out: JournalMessage[] = [];
  for await (const m of journal.consume({ stream: 'LAB_KRAKEN_RAW', from: 'first', untilCaughtUp: true })) out.push(m);
  return out;
}

describe('BufferedPublisher', () => {
  let dir: string;
  let inner: Journal;
  let journal: ReturnType<typeof withOutage>;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssmd-bp-'));
    inner = await openLocalJournal({ dir: join(dir, 'journal') });
    await inner.ensureStreams([{ name: 'LAB_KRAKEN_RAW', subjects: ['lab.kraken.raw.>'], maxAgeMs: 0, maxBytes: -1, discard: 'old', duplicateWindowMs: 120_000 }]);
    journal = withOutage(inner);
  });
  afterEach(async () => {
    await inner.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes everything in order when the journal is up, with no finding', async () => {
    const findings = new MemoryFindingSink();
    const bp = new BufferedPublisher(journal, { maxBufferBytes: 4 << 20, policy: 'block', clock: new RealClock(), findings });
    for (let i = 0; i < 2_000; i++) await bp.publish(frame(i));
    await bp.flush();
    const got = await readAll(journal);
    expect(got.map((m) => m.msgId)).toEqual(Array.from({ length: 2_000 }, (_, i) => `c1:${i}`));
    expect(findings.findings).toEqual([]);
    expect(bp.stats().published).toBe(2_000);
  });

  it('rides out an outage within the buffer: nothing lost, nothing duplicated, no finding', async () => {
    const findings = new MemoryFindingSink();
    const bp = new BufferedPublisher(journal, { maxBufferBytes: 4 << 20, policy: 'block', retryMs: 20, clock: new RealClock(), findings });
    for (let i = 0; i < 500; i++) await bp.publish(frame(i));
    journal.down = true;
    for (let i = 500; i < 1_500; i++) await bp.publish(frame(i));
    await new Promise((r) => setTimeout(r, 100));
    expect(bp.stats().failedAttempts).toBeGreaterThan(0);
    journal.down = false;
    await bp.flush();
    const got = await readAll(journal);
    expect(got.map((m) => m.msgId)).toEqual(Array.from({ length: 1_500 }, (_, i) => `c1:${i}`));
    expect(findings.findings).toEqual([]);
  });

  it('blocks publishers at the byte limit, records the limit, and keeps memory bounded', async () => {
    const findings = new MemoryFindingSink();
    const limit = 64 * 1024;
    const bp = new BufferedPublisher(journal, { maxBufferBytes: limit, policy: 'block', retryMs: 20, clock: new RealClock(), findings });
    journal.down = true;
    let accepted = 0;
    const producer = (async () => {
      for (let i = 0; i < 1_000; i++) {
        await bp.publish(frame(i));
        accepted += 1;
      }
    })();
    await expect.poll(() => findings.findings.length).toBe(1);
    const stuckAt = accepted;
    expect(stuckAt).toBeLessThan(1_000);
    expect(bp.stats().bufferedBytes).toBeLessThanOrEqual(limit);
    expect(findings.findings[0]).toMatchObject({ kind: 'buffer_limit_reached', severity: 'warning' });
    journal.down = false;
    await producer;
    await bp.flush();
    expect((await readAll(journal)).length).toBe(1_000);
    expect(bp.stats().peakBufferedBytes).toBeLessThanOrEqual(limit);
  });

  it('spills to disk past the limit and drains in order once the journal is back', async () => {
    const findings = new MemoryFindingSink();
    const spillDir = join(dir, 'spill');
    const bp = new BufferedPublisher(journal, { maxBufferBytes: 32 * 1024, policy: 'spill', spillDir, retryMs: 20, clock: new RealClock(), findings });
    journal.down = true;
    for (let i = 0; i < 2_000; i++) await bp.publish(frame(i)); // never waits
    expect(bp.stats().spilledRecords).toBeGreaterThan(1_500);
    expect(bp.stats().bufferedBytes).toBeLessThanOrEqual(32 * 1024);
    expect((await readdir(spillDir)).length).toBe(1);
    journal.down = false;
    await bp.flush();
    const got = await readAll(journal);
    expect(got.map((m) => m.msgId)).toEqual(Array.from({ length: 2_000 }, (_, i) => `c1:${i}`));
    expect(findings.findings.map((f) => f.kind)).toEqual(['buffer_limit_reached', 'spill_started', 'spill_drained']);
    expect(await readdir(spillDir)).toEqual([]);
  });

  it('drops a record the journal refuses for good (no stream for it) with a finding, and goes on', async () => {
    const findings = new MemoryFindingSink();
    const bp = new BufferedPublisher(journal, { maxBufferBytes: 1 << 20, policy: 'block', retryMs: 20, clock: new RealClock(), findings });
    await bp.publish(frame(1));
    await bp.publish({ ...frame(2), subject: 'other.feed.raw.trade.X' });
    await bp.publish(frame(3));
    await bp.close();
    expect((await readAll(journal)).map((m) => m.msgId)).toEqual(['c1:1', 'c1:3']);
    expect(bp.stats().dropped).toBe(1);
    const drops = findings.findings.filter((f) => f.kind === 'data_dropped');
    expect(drops.at(-1)).toMatchObject({ detail: { count: 1, firstMsgId: 'c1:2' } });
    expect(String(drops[0]!.detail.reason)).toMatch(/other\.feed\.raw\.trade\.X/);
  });

  it('drops only past the spill limit, and records every drop', async () => {
    const findings = new MemoryFindingSink();
    const bp = new BufferedPublisher(journal, { maxBufferBytes: 8 * 1024, policy: 'spill', spillDir: join(dir, 'spill'), maxSpillBytes: 64 * 1024, retryMs: 20, clock: new RealClock(), findings });
    journal.down = true;
    for (let i = 0; i < 1_000; i++) await bp.publish(frame(i));
    const dropped = bp.stats().dropped;
    expect(dropped).toBeGreaterThan(0);
    journal.down = false;
    await bp.flush();
    expect((await readAll(journal)).length).toBe(1_000 - dropped);
    // One finding when dropping starts, one when the window closes with the count.
    const drops = findings.findings.filter((f) => f.kind === 'data_dropped');
    expect(drops).toHaveLength(2);
    expect(drops[1]).toMatchObject({ severity: 'error', detail: { count: dropped } });
    expect(drops[1]!.windowEnd).toBeGreaterThanOrEqual(drops[0]!.windowStart);
  });
});
