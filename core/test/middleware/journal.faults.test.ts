import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/middleware/clock.js';
import { MemoryFindingSink } from '../../src/middleware/findings.js';
import type { JournalMessage } from '../../src/middleware/journal.js';
import { BufferedPublisher } from '../../src/middleware/journal/buffered-publisher.js';
import { openJetStreamJournal, type JetStreamJournal } from '../../src/middleware/journal/jetstream.js';
import { startNats, type NatsServer } from '../../../test/harness/nats.js';

const N = 6_000;
const frame = (i: number) => ({ subject: 'lab.kraken.raw.trade.BTC', msgId: `conn1:${i}`, data: Buffer.from(`{"seq":${i},"p":"${'x'.repeat(200)}"}`) });

describe('JetStream journal behind a BufferedPublisher: nats-server killed and restarted mid-publish', () => {
  let nats: NatsServer;
  let journal: JetStreamJournal;
  beforeEach(async () => {
    nats = await startNats();
    journal = await openJetStreamJournal({ servers: nats.url, publishTimeoutMs: 2_000 });
    await journal.ensureStreams([{ name: 'LAB_KRAKEN_RAW', subjects: ['lab.kraken.raw.>'], maxAgeMs: 0, maxBytes: -1, discard: 'old', duplicateWindowMs: 300_000 }]);
  });
  afterEach(async () => {
    await journal.close();
    await nats.stop();
  });

  async function produceAcrossRestart(bp: BufferedPublisher): Promise<void> {
    for (let i = 0; i < N; i++) {
      await bp.publish(frame(i));
      if (i === N / 3) await nats.kill('SIGKILL');
      if (i === (2 * N) / 3) await nats.restart();
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    await bp.flush();
  }

  async function stored(): Promise<JournalMessage[]> {
    const out: JournalMessage[] = [];
    for await (const m of journal.consume({ stream: 'LAB_KRAKEN_RAW', from: 'first', untilCaughtUp: true })) out.push(m);
    return out;
  }

  it('loses nothing, stores nothing twice, and records no gap while the buffer holds the outage', async () => {
    const findings = new MemoryFindingSink();
    const bp = new BufferedPublisher(journal, { maxBufferBytes: 16 << 20, policy: 'block', retryMs: 50, clock: new RealClock(), findings });
    await produceAcrossRestart(bp);
    const msgs = await stored();
    const ids = msgs.map((m) => m.msgId);
    expect(new Set(ids).size).toBe(ids.length); // no duplicates
    expect(ids.length).toBe(N); // no loss
    expect(msgs.map((m) => m.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1)); // contiguous journal sequences
    expect(bp.stats().failedAttempts).toBeGreaterThan(0); // the outage really happened
    expect(findings.findings).toEqual([]);
  });

  it('records the buffer limit when the outage outgrows the buffer, and still loses nothing with spill', async () => {
    const findings = new MemoryFindingSink();
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const spillDir = await mkdtemp(`${tmpdir()}/ssmd-spill-`);
    const bp = new BufferedPublisher(journal, { maxBufferBytes: 64 * 1024, policy: 'spill', spillDir, retryMs: 50, clock: new RealClock(), findings });
    await produceAcrossRestart(bp);
    const ids = (await stored()).map((m) => m.msgId);
    expect(new Set(ids).size).toBe(N);
    expect(ids.length).toBe(N);
    expect(findings.findings.map((f) => f.kind)).toEqual(expect.arrayContaining(['buffer_limit_reached', 'spill_started', 'spill_drained']));
    expect(findings.findings.some((f) => f.kind === 'data_dropped')).toBe(false);
  });
});
