/**
 * Capture throughput of one connector shard, each figure next to a baseline from the same run:
 *   Kraken simulator (rate max, its own process) → KrakenFeed → captureShard → BufferedPublisher → journal,
 *   (a) LocalJournal in a temp dir, (b) JetStream (throwaway nats-server).
 * Per run: frames/s (frames captured / time until the last one is acknowledged), p50/p99/max added latency
 * receive → journal ack (per frame: clock.nowNs() when its publish is acknowledged minus its Ssmd-Recv-Ns), peak
 * RSS (sampled every 100 ms; every run is its own process and the simulator another, so RSS is the run's alone), and a
 * continuity check: the journal is read back and, per connection, connSeq runs 1..n without a hole and the total
 * equals the frames captured.
 * Baselines: a bare `ws` client that only counts frames from the same simulator (its ceiling), and a bare windowed
 * publish loop (window 2048, 3 s) straight into each journal (the journal's ceiling) of frames recorded from the simulator.
 * Run: node --import tsx --expose-gc test/bench/capture.bench.ts   (BENCH_CAPTURE_SECONDS, default 15)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { RealClock } from '../../core/src/middleware/clock.js';
import { MemoryFindingSink } from '../../core/src/middleware/findings.js';
import type { Journal, JournalRecord, PublishAck, StreamSpec } from '../../core/src/middleware/journal.js';
import { BufferedPublisher } from '../../core/src/middleware/journal/buffered-publisher.js';
import { openJetStreamJournal } from '../../core/src/middleware/journal/jetstream.js';
import { openLocalJournal } from '../../core/src/middleware/journal/local.js';
import { captureShard } from '../../capture-services/connector/src/capture.js';
import { toJournalRecord } from '../../capture-services/raw/src/frame.js';
import { startKrakenSimulator } from '../../capture-services/simulators/src/index.js';
import { KRAKEN, KrakenFeed, classify, subscribeRequest } from '../../capture-services/venues/src/kraken/index.js';
import { startNats } from '../harness/nats.js';
import { rate, report, type Measurement } from './report.js';

const SECONDS = Number(process.env.BENCH_CAPTURE_SECONDS ?? 15);
const BARE_JOURNAL_FRAMES = Number(process.env.BENCH_CAPTURE_BARE_FRAMES ?? 1_000_000);
const BARE_JOURNAL_SECONDS = Number(process.env.BENCH_CAPTURE_BARE_SECONDS ?? 3);
const SYMBOLS = ['BTC/USD', 'ETH/USD', 'SOL/USD', 'POL/USD'];
const SEED = 7;
const ENV = 'bench';
const FEED = 'kraken';
const STREAM = 'BENCH_KRAKEN_RAW';
const SPEC: StreamSpec = { name: STREAM, subjects: [`${ENV}.${FEED}.raw.>`], maxAgeMs: 0, maxBytes: -1, discard: 'old', duplicateWindowMs: Number(process.env.BENCH_CAPTURE_DUP_WINDOW_MS ?? 120_000) };
const BUFFER_BYTES = Number(process.env.BENCH_CAPTURE_BUFFER_MB ?? 64) * 1024 * 1024; // profile buffer_mb (default 64)
const QUEUE_BYTES = Number(process.env.BENCH_CAPTURE_QUEUE_MB ?? 16) * 1024 * 1024; // feed event queue (default 16 MiB)
/** Node flags for the measured processes, e.g. the heap limits of a memory profile. */
const CHILD_FLAGS = (process.env.BENCH_CAPTURE_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const TARGET_FPS = 50_000;
const TARGET_RSS_MIB = 200;
const RECV_NS = 'Ssmd-Recv-Ns';

const rssMiB = () => Math.round(process.memoryUsage().rss / 1024 / 1024);
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function startSimulatorProcess(): Promise<{ wsUrl: string; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--simulator'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => {
      rl.close();
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const { wsUrl } = JSON.parse(line) as { wsUrl: string };
  return {
    wsUrl, child,
    async stop() {
      child.stdin!.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---- latency histogram: log buckets of 1 % width over microseconds ----

class Histogram {
  readonly #buckets = new Uint32Array(2_000);
  count = 0;
  max = 0;
  add(us: number): void {
    const i = us <= 1 ? 0 : Math.min(this.#buckets.length - 1, Math.ceil(Math.log(us) / Math.log(1.01)));
    this.#buckets[i]! += 1;
    this.count += 1;
    if (us > this.max) this.max = us;
  }
  /** Upper bound of the bucket holding quantile q, in ms. */
  quantileMs(q: number): number {
    const want = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i]!;
      if (seen >= want) return Math.min(1.01 ** i, this.max) / 1000;
    }
    return this.max / 1000;
  }
}

/** The journal handed to the BufferedPublisher: times each publish's ack against the frame's receive time. */
function timed(journal: Journal, clock: RealClock, hist: Histogram): Journal {
  return {
    kind: journal.kind,
    ensureStreams: (s) => journal.ensureStreams(s),
    verifyCoverage: (s) => journal.verifyCoverage(s),
    consume: (o) => journal.consume(o),
    info: (s) => journal.info(s),
    close: () => journal.close(),
    publish(record: JournalRecord): Promise<PublishAck> {
      return journal.publish(record).then((ack) => {
        const recv = record.headers?.[RECV_NS];
        if (recv !== undefined) hist.add(Number(clock.nowNs() - BigInt(recv)) / 1000);
        return ack;
      });
    },
  };
}

/** Peak RSS (and JS heap in use) of this process, sampled every 100 ms. */
function sampleRss(): { stop(): number; peakHeapMiB(): number } {
  let peak = rssMiB();
  let heap = 0;
  const tick = () => {
    const u = process.memoryUsage();
    peak = Math.max(peak, Math.round(u.rss / 1024 / 1024));
    heap = Math.max(heap, Math.round(u.heapUsed / 1024 / 1024));
  };
  const t = setInterval(tick, 100);
  return {
    stop() {
      clearInterval(t);
      tick();
      return peak;
    },
    peakHeapMiB: () => heap,
  };
}

// ---- baselines ----

/** A bare `ws` client that subscribes like KrakenFeed and only counts frames; keeps a sample of them for the journal baseline. */
async function bareWs(wsUrl: string, seconds: number, keep: Buffer[]): Promise<Measurement> {
  gc();
  const rss = sampleRss();
  let frames = 0;
  let bytes = 0;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    let req = 0;
    ws.on('open', () => {
      for (const c of KRAKEN.channels) ws.send(subscribeRequest(c, SYMBOLS, { depth: KRAKEN.bookDepth, reqId: ++req }));
      setTimeout(() => ws.close(), seconds * 1000);
    });
    ws.on('message', (data: Buffer) => {
      frames += 1;
      bytes += data.length;
      if (keep.length < 5_000 && frames > 100) keep.push(data);
    });
    ws.once('error', reject);
    ws.once('close', () => resolve());
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { name: 'bare ws client, counting only (simulator ceiling)', ops: frames, ms, extra: { peakRssMiB: rss.stop(), avgFrameBytes: Math.round(bytes / Math.max(1, frames)) } };
}

/** Records shaped exactly like the connector's (same subjects and headers), from frames the simulator sent. */
function sampleRecords(frames: Buffer[], clock: RealClock): JournalRecord[] {
  return frames.map((bytes, i) => {
    const c = classify(bytes);
    return toJournalRecord({ env: ENV, feed: FEED, shard: 0, conn: 'bare', connSeq: i + 1, recvNs: clock.nowNs(), type: c.type, symbol: c.symbol, bytes });
  });
}

/** A windowed publish loop straight into `journal` for BARE_JOURNAL_SECONDS (or BARE_JOURNAL_FRAMES, whichever first). */
async function bareJournal(name: string, journal: Journal, records: JournalRecord[]): Promise<Measurement> {
  gc();
  const rss = sampleRss();
  const start = process.hrtime.bigint();
  const deadline = performance.now() + BARE_JOURNAL_SECONDS * 1000;
  let issued = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      const open = issued < BARE_JOURNAL_FRAMES && performance.now() < deadline;
      if (!open && done === issued) return resolve();
      while (open && issued < BARE_JOURNAL_FRAMES && issued - done < 2048) {
        const i = issued++;
        const r = records[i % records.length]!;
        journal.publish({ ...r, msgId: `bare:${i}` }).then(() => {
          done += 1;
          pump();
        }, reject);
      }
    };
    pump();
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { name, ops: done, ms, extra: { peakRssMiB: rss.stop() } };
}

// ---- the connector shard ----

interface CaptureResult {
  m: Measurement;
  frames: number;
  peakRss: number;
}

async function captureRun(name: string, wsUrl: string, journal: Journal, seconds: number): Promise<CaptureResult> {
  gc();
  const clock = new RealClock();
  const findings = new MemoryFindingSink();
  const hist = new Histogram();
  const publisher = new BufferedPublisher(timed(journal, clock, hist), { maxBufferBytes: BUFFER_BYTES, policy: 'block', clock, findings });
  const ac = new AbortController();
  const feed = new KrakenFeed({ url: wsUrl, symbols: SYMBOLS, signal: ac.signal, clock, highWaterBytes: QUEUE_BYTES });
  const rss = sampleRss();
  const start = process.hrtime.bigint();
  const running = captureShard({ env: ENV, feed: FEED, shard: 0, events: feed.events(), classify, publisher, findings, clock });
  const timer = setTimeout(() => ac.abort(), seconds * 1000);
  const stats = await running;
  clearTimeout(timer);
  await publisher.close();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const peakRss = rss.stop();
  const ps = publisher.stats();
  const problems = findings.findings.filter((f) => f.severity !== 'info').map((f) => f.kind);
  const m: Measurement = {
    name, ops: stats.frames, ms,
    extra: {
      p50AddedLatencyMs: hist.quantileMs(0.5).toFixed(2),
      p99AddedLatencyMs: hist.quantileMs(0.99).toFixed(2),
      maxAddedLatencyMs: (hist.max / 1000).toFixed(2),
      latencySamples: hist.count,
      peakRssMiB: peakRss,
      peakHeapUsedMiB: rss.peakHeapMiB(),
      peakBufferMiB: (ps.peakBufferedBytes / 1024 / 1024).toFixed(1),
      connects: stats.connects,
      dropped: ps.dropped,
      findings: problems.length ? [...new Set(problems)].join('+') : 'none',
    },
  };
  return { m, frames: stats.frames, peakRss };
}

/** Read the journal back: per connection connSeq must run 1..n, and the total must equal the frames captured. */
async function continuity(journal: Journal, captured: number): Promise<string> {
  const last = new Map<string, number>();
  let count = 0;
  let holes = 0;
  for await (const m of journal.consume({ stream: STREAM, from: 'first', untilCaughtUp: true })) {
    const conn = m.headers['Ssmd-Conn'];
    if (conn === undefined || conn === 'bare') continue;
    count += 1;
    const seq = Number(m.headers['Ssmd-Conn-Seq']);
    if (seq !== (last.get(conn) ?? 0) + 1) holes += 1;
    last.set(conn, seq);
  }
  const ok = holes === 0 && count === captured;
  return `${ok ? 'OK' : 'FAILED'} (${count} journaled / ${captured} captured, ${last.size} conn, ${holes} seq breaks)`;
}

const verdict = (r: CaptureResult) => (rate(r.m) >= TARGET_FPS && r.peakRss <= TARGET_RSS_MIB ? 'PASS' : 'FAIL');

type Scenario =
  | { kind: 'ws'; wsUrl: string; samples: string }
  | { kind: 'capture'; journal: 'local' | 'jetstream'; wsUrl: string; dir: string; natsUrl: string }
  | { kind: 'bare'; journal: 'local' | 'jetstream'; dir: string; natsUrl: string; samples: string };

async function openJournal(kind: 'local' | 'jetstream', dir: string, natsUrl: string, spec: StreamSpec): Promise<Journal> {
  const j = kind === 'local' ? await openLocalJournal({ dir }) : await openJetStreamJournal({ servers: natsUrl });
  await j.ensureStreams([spec]);
  return j;
}

/** One scenario, in this (fresh) process: peak RSS is this process's alone. */
async function runScenario(sc: Scenario): Promise<Measurement> {
  if (sc.kind === 'ws') {
    const keep: Buffer[] = [];
    const m = await bareWs(sc.wsUrl, SECONDS, keep);
    await fsp.writeFile(sc.samples, keep.map((b) => b.toString('base64')).join('\n'));
    return m;
  }
  if (sc.kind === 'capture') {
    const journal = await openJournal(sc.journal, sc.dir, sc.natsUrl, SPEC);
    try {
      const r = await captureRun(`capture → ${sc.journal === 'local' ? 'LocalJournal' : 'JetStream'}`, sc.wsUrl, journal, SECONDS);
      r.m.extra!.continuity = await continuity(journal, r.frames);
      r.m.extra!.target = verdict(r);
      return r.m;
    } finally {
      await journal.close();
    }
  }
  const frames = (await fsp.readFile(sc.samples, 'utf8')).split('\n').map((l) => Buffer.from(l, 'base64'));
  const journal = await openJournal(sc.journal, sc.dir, sc.natsUrl, { ...SPEC, name: 'BENCH_BARE', subjects: ['bare.>'] });
  try {
    const records = sampleRecords(frames, new RealClock()).map((r) => ({ ...r, subject: `bare.${r.subject}` }));
    return await bareJournal(`bare ${sc.journal === 'local' ? 'LocalJournal' : 'JetStreamJournal'}.publish loop (window 2048, ${BARE_JOURNAL_SECONDS} s)`, journal, records);
  } finally {
    await journal.close();
  }
}

function inChild(sc: Scenario): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CHILD_FLAGS, '--import', 'tsx', '--expose-gc', fileURLToPath(import.meta.url), '--scenario', JSON.stringify(sc)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) return reject(new Error(`scenario ${JSON.stringify(sc)} exited with ${code}: ${out.slice(-2000)}`));
      resolve(JSON.parse(line.slice('RESULT '.length)) as Measurement);
    });
  });
}

async function main(): Promise<void> {
  const sim = await startSimulatorProcess();
  const nats = await startNats();
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'ssmd-capture-bench-'));
  const samples = path.join(root, 'samples.b64');
  try {
    const ws = await inChild({ kind: 'ws', wsUrl: sim.wsUrl, samples });
    const localCap = await inChild({ kind: 'capture', journal: 'local', wsUrl: sim.wsUrl, dir: path.join(root, 'local'), natsUrl: nats.url });
    const localBare = await inChild({ kind: 'bare', journal: 'local', dir: path.join(root, 'bare'), natsUrl: nats.url, samples });
    const jsCap = await inChild({ kind: 'capture', journal: 'jetstream', wsUrl: sim.wsUrl, dir: '', natsUrl: nats.url });
    const jsBare = await inChild({ kind: 'bare', journal: 'jetstream', dir: '', natsUrl: nats.url, samples });

    const target = { ratio: 0, note: `≥ 50k frames/s per process with RSS ≤ 200 MB (verdict per row in "target"; ${SECONDS} s per run; each run in its own process, the simulator in another)` };
    report(`capture: Kraken simulator (rate max) → one connector shard, vs the simulator's ceiling`, ws, [localCap, jsCap], target);
    const brief = (m: Measurement): Measurement => ({ ...m, extra: { peakRssMiB: m.extra?.peakRssMiB ?? '?', p99AddedLatencyMs: m.extra?.p99AddedLatencyMs ?? '?' } });
    report('capture → LocalJournal vs a bare LocalJournal publish loop of the same records', localBare, [brief(localCap)]);
    report('capture → JetStream vs a bare JetStream publish loop of the same records', jsBare, [brief(jsCap)]);
  } finally {
    await nats.stop();
    await sim.stop();
    await fsp.rm(root, { recursive: true, force: true });
  }
}

// Simulator child: `capture.bench.ts --simulator` prints its wsUrl and runs until stdin closes.
// Scenario child: `capture.bench.ts --scenario <json>` prints `RESULT <measurement json>`.
// Dispatch last: the classes above must be initialised before main() runs.
if (process.argv[2] === '--simulator') {
  const sim = await startKrakenSimulator({ port: 0, rate: 'max', seed: SEED, record: false });
  process.stdout.write(`${JSON.stringify({ wsUrl: sim.wsUrl })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void sim.close().finally(() => process.exit(0));
  });
} else if (process.argv[2] === '--scenario') {
  const m = await runScenario(JSON.parse(process.argv[3]!) as Scenario);
  process.stdout.write(`RESULT ${JSON.stringify(m)}\n`);
  process.exit(0);
} else {
  await main();
}
