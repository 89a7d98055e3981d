import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLocalJournal } from '../../../core/src/middleware/journal/local.js';
import { fromJournalMessage, type RawFrame } from '../../raw/src/frame.js';
import { startKrakenSimulator } from '../../simulators/src/index.js';
import { startPostgres, type PostgresDatabase } from '../../../test/harness/postgres.js';

type Sim = Awaited<ReturnType<typeof startKrakenSimulator>>;
const ROOT = join(import.meta.dirname, '..', '..', '..');
const ENTRY = 'capture-services/connector/test/run-connector.ts';

interface Child {
  proc: ChildProcess;
  out: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startChild(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  proc.stdout!.on('data', (b: Buffer) => out.push(b.toString()));
  proc.stderr!.on('data', (b: Buffer) => out.push(b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  return { proc, out, exit };
}

function sentBy(sim: Sim, id: string): string[] {
  return sim.sent().filter((s) => s.connectionId === id).map((s) => s.text);
}

describe('connector in a child process: kill -9, restart, clean stop', () => {
  let dir: string;
  let pg: PostgresDatabase;
  let sim: Sim;
  const children: Child[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssmd-kill9-'));
    pg = await startPostgres();
    sim = await startKrakenSimulator({ port: 0, record: true, rate: 300, seed: 11 });
  }, 60_000);
  afterAll(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exit));
    await sim?.close();
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loses only the killed connection\'s unflushed tail, duplicates nothing, and journals every frame of the restarted run', async () => {
    const home = join(dir, 'home');
    const args = [sim.wsUrl, home, pg.url];

    // First run: stream for a while, then kill -9 mid-stream.
    const first = startChild(args);
    children.push(first);
    await expect.poll(() => sim.stats().connectionsTotal, { timeout: 20_000 }).toBe(1);
    const firstId = sim.connectionIds()[0]!;
    await expect.poll(() => sentBy(sim, firstId).length, { timeout: 10_000 }).toBeGreaterThan(300);
    // Everything the simulator had sent by now must survive the kill (~1 s later): loss is bounded to the last second.
    const durableBefore = sentBy(sim, firstId).length;
    await expect.poll(() => sentBy(sim, firstId).length, { timeout: 10_000 }).toBeGreaterThan(durableBefore + 300);
    first.proc.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');
    await expect.poll(() => sim.stats().connections, { timeout: 10_000 }).toBe(0);
    const firstSent = sentBy(sim, firstId);

    // Second run: reopens the journal (stale lock, torn tail), streams, then stops cleanly on SIGTERM.
    const second = startChild(args);
    children.push(second);
    await expect.poll(() => sim.stats().connectionsTotal, { timeout: 20_000 }).toBe(2);
    const secondId = sim.connectionIds()[0]!;
    expect(secondId).not.toBe(firstId);
    await expect.poll(() => sentBy(sim, secondId).length, { timeout: 10_000 }).toBeGreaterThan(600);
    second.proc.kill('SIGTERM');
    const exit = await second.exit;
    expect(exit, second.out.join('')).toEqual({ code: 0, signal: null });
    expect(second.out.join('')).toMatch(/stopped: \d+ frames/);
    await expect.poll(() => sim.stats().connections, { timeout: 10_000 }).toBe(0);

    // Read the journal back.
    const journal = await openLocalJournal({ dir: join(home, 'journal', 'lab'), readOnly: true });
    const frames: RawFrame[] = [];
    try {
      for await (const m of journal.consume({ stream: 'LAB_KRAKEN_RAW', from: 'first', untilCaughtUp: true })) frames.push(fromJournalMessage('lab', 'kraken', m));
    } finally {
      await journal.close();
    }

    // No duplicates: conn:connSeq unique.
    expect(new Set(frames.map((f) => `${f.conn}:${f.connSeq}`)).size).toBe(frames.length);
    const byConn = new Map<string, RawFrame[]>();
    for (const f of frames) byConn.set(f.conn, [...(byConn.get(f.conn) ?? []), f]);
    // One connection per run; in journal order (which is receive order) the first run's comes first.
    expect(byConn.size).toBe(2);
    const [killed, restarted] = [...byConn.values()].map((l) => l.map((f) => Buffer.from(f.bytes).toString('utf8'))) as [string[], string[]];
    for (const list of byConn.values()) expect(list.map((f) => f.connSeq)).toEqual(list.map((_, i) => i + 1)); // contiguous from 1

    // Killed connection: its journal is exactly a prefix of what the simulator sent it (no bytes twice, none skipped);
    // the loss is the tail after the last journaled frame, and everything sent a second before the kill survived.
    expect(killed.length).toBeGreaterThanOrEqual(durableBefore);
    expect(killed.length).toBeLessThanOrEqual(firstSent.length);
    expect(killed).toEqual(firstSent.slice(0, killed.length));
    const lost = firstSent.length - killed.length;
    expect(lost).toBeLessThanOrEqual(firstSent.length - durableBefore);

    // Restarted connection: every frame the simulator sent it was journaled, once, in order.
    expect(restarted).toEqual(sentBy(sim, secondId));
    expect(restarted.length).toBeGreaterThan(600);
  }, 60_000);
});
