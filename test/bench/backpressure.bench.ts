// bench-node-flags: --max-old-space-size=96 --max-semi-space-size=8
/**
 * Peak RSS while the journal is stalled (M15): the nats-server is frozen with SIGSTOP for 60 s
 * while a producer keeps publishing 300-byte frames at a steady rate through a BufferedPublisher.
 * Memory must stay within the configured buffer limit plus a fixed overhead, for both policies
 * (`block` and `spill`). Baseline: RSS of the same process right before the stall.
 *
 * The process runs with the V8 heap limits a 256 MB memory profile sets (flags above): without
 * them V8 lets garbage pile up during the drain at full speed (heap after GC stays ~11 MiB, but
 * RSS grows by 100+ MiB), which is why every ssmd service runs with heap limits from its profile.
 *
 *   node --max-old-space-size=96 --max-semi-space-size=8 --import tsx --expose-gc test/bench/backpressure.bench.ts [stallSeconds]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RealClock } from '../../core/src/middleware/clock.js';
import { MemoryFindingSink } from '../../core/src/middleware/findings.js';
import { BufferedPublisher } from '../../core/src/middleware/journal/buffered-publisher.js';
import { openJetStreamJournal } from '../../core/src/middleware/journal/jetstream.js';
import { startNats } from '../harness/nats.js';

const STALL_S = Number(process.argv[2] ?? 60);
const RATE = 20_000; // frames per second offered by the producer
const BUFFER_MB = 32;
const OVERHEAD_MB = 64; // fixed allowance: runtime, client library, timers
const MiB = 1024 * 1024;
const frame = Buffer.alloc(300, 'x');

function natsPid(port: number): number {
  const out = execFileSync('pgrep', ['-f', `nats-server .*-p ${port}( |$)`]).toString().trim().split('\n')[0];
  return Number(out);
}

async function run(policy: 'block' | 'spill'): Promise<string> {
  const nats = await startNats();
  const dir = await mkdtemp(join(tmpdir(), 'ssmd-bp-bench-'));
  const journal = await openJetStreamJournal({ servers: nats.url, publishTimeoutMs: 2_000 });
  await journal.ensureStreams([{ name: 'B', subjects: ['b.>'], maxAgeMs: 0, maxBytes: -1, discard: 'old', duplicateWindowMs: 600_000 }]);
  const findings = new MemoryFindingSink();
  const bp = new BufferedPublisher(journal, { maxBufferBytes: BUFFER_MB * MiB, policy, spillDir: join(dir, 'spill'), maxSpillBytes: 4096 * MiB, retryMs: 200, clock: new RealClock(), findings });
  let i = 0;
  let stop = false;
  const producer = (async () => {
    const perTick = RATE / 100;
    while (!stop) {
      const t0 = Date.now();
      for (let k = 0; k < perTick && !stop; k++) await bp.publish({ subject: 'b.x', msgId: `m${i}`, data: frame }).then(() => { i += 1; });
      const wait = 10 - (Date.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  await new Promise((r) => setTimeout(r, 3_000)); // warm up
  global.gc?.();
  const base = process.memoryUsage().rss;
  const pid = natsPid(nats.port);
  process.kill(pid, 'SIGSTOP');
  let peak = base;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 100);
  const offeredBefore = i;
  await new Promise((r) => setTimeout(r, STALL_S * 1000));
  const acceptedDuringStall = i - offeredBefore;
  const peakStall = peak;
  process.kill(pid, 'SIGCONT');
  stop = true;
  await producer;
  await bp.flush();
  clearInterval(sampler);
  const info = await journal.info('B');
  const stats = bp.stats();
  await journal.close();
  await nats.stop();
  await rm(dir, { recursive: true, force: true });
  const growth = (peak - base) / MiB;
  process.stderr.write(`${policy}: peak during stall ${((peakStall - base) / MiB).toFixed(0)} MiB, during drain ${((peak - base) / MiB).toFixed(0)} MiB, heapUsed after gc ${(global.gc?.(), process.memoryUsage().heapUsed / MiB).toFixed(0)} MiB\n`);
  const ok = growth <= BUFFER_MB + OVERHEAD_MB && info.messages === i;
  return `| ${policy} | ${STALL_S} | ${(base / MiB).toFixed(0)} | ${(peak / MiB).toFixed(0)} | ${growth.toFixed(0)} | ${BUFFER_MB} + ${OVERHEAD_MB} | ${acceptedDuringStall} | ${stats.spilledRecords} | ${i} | ${info.messages} | ${findings.findings.map((f) => f.kind).join(', ')} | ${ok ? 'PASS' : 'FAIL'} |`;
}

const rows = [await run('block'), await run('spill')];
process.stdout.write([
  `## Peak RSS with the journal stalled (${RATE} frames/s of 300 B offered, buffer ${BUFFER_MB} MiB)`, '',
  '| policy | stall s | RSS before (baseline) MiB | peak RSS MiB | growth MiB | allowed MiB | frames accepted during stall | spilled | published | in stream | findings | result |',
  '|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---|',
  ...rows, '',
].join('\n'));
