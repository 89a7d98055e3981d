import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { BaseSimulatorOptions, SimulatorHandle } from '../../simulators/src/index.js';
import { connect, waitFor } from './helpers.js';
import type { TestClient } from './helpers.js';

/** How the shared fault/record/seed/replay tests drive one venue. */
export interface VenueAdapter {
  name: string;
  start(opts: BaseSimulatorOptions): Promise<SimulatorHandle>;
  /** Open a client (signed for Kalshi). */
  connect(sim: SimulatorHandle): Promise<TestClient>;
  /** Send the subscription that starts data flowing. */
  subscribe(client: TestClient): void;
  /** A data frame (not an ack, heartbeat, pong or status). */
  isData(text: string): boolean;
  /** A well-formed frame of this venue (false for every kind of malformed frame). */
  isWellFormed(text: string): boolean;
  /** Capture files to replay: how to subscribe, and the exact frames expected for the file's lines. */
  replays: Array<{ label?: string; file: string; subscribe(client: TestClient): void; expected(lines: string[]): string[] }>;
}

const HUGE = 256 * 1024;

export function describeCommonBehaviour(v: VenueAdapter): void {
  describe(`${v.name}: faults, recording, determinism, replay`, () => {
    const open: Array<{ close(): Promise<void> }> = [];
    const start = async (opts: BaseSimulatorOptions): Promise<SimulatorHandle> => {
      const sim = await v.start({ hugeFrameBytes: HUGE, ...opts });
      open.push(sim);
      return sim;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
    });

    const dataCount = (c: TestClient): number => c.texts().filter((t) => v.isData(t)).length;

    it('disconnect closes the chosen connection abruptly (no close frame), the other keeps going', async () => {
      const sim = await start({ rate: 200 });
      const a = await v.connect(sim);
      const b = await v.connect(sim);
      v.subscribe(a);
      v.subscribe(b);
      await waitFor(() => dataCount(a) > 3 && dataCount(b) > 3, 'data on both');
      sim.inject({ kind: 'disconnect', connectionId: a.connectionId });
      expect((await a.closed).code).toBe(1006);
      const before = dataCount(b);
      await waitFor(() => dataCount(b) > before + 5, 'b still receiving');
      expect(b.isClosed()).toBe(false);
      sim.inject({ kind: 'disconnect' });
      expect((await b.closed).code).toBe(1006);
      await waitFor(() => sim.stats().connections === 0, 'no connections');
      expect(sim.stats().connectionsTotal).toBe(2);
    });

    it('stale stops all traffic for the given time, then data resumes', async () => {
      const sim = await start({ rate: 200, record: true });
      const c = await v.connect(sim);
      v.subscribe(c);
      await waitFor(() => dataCount(c) > 5, 'data');
      const sentBefore = sim.sent().length;
      const t0 = performance.now();
      sim.inject({ kind: 'stale', ms: 400 });
      // every frame after those already on the wire was sent after the stale window
      await waitFor(() => c.frames.length > sentBefore, 'traffic after stale', 3000);
      const firstAfter = c.frames[sentBefore];
      expect(firstAfter!.at - t0).toBeGreaterThanOrEqual(380);
      await waitFor(() => dataCount(c) > sentBefore + 10, 'data resumes');
    });

    for (const variant of ['truncated-json', 'wrong-types', 'huge', 'binary'] as const) {
      it(`malformed ${variant}: one bad frame, then normal frames`, async () => {
        const sim = await start({ rate: 300 });
        const c = await v.connect(sim);
        v.subscribe(c);
        await waitFor(() => dataCount(c) > 5, 'data');
        const n0 = c.frames.length;
        sim.inject({ kind: 'malformed', variant });
        await waitFor(() => c.frames.length > n0 + 40, 'frames after the fault');
        const after = c.frames.slice(n0);
        const bad = after.filter((f) => f.binary || !v.isWellFormed(f.text));
        expect(bad).toHaveLength(1);
        if (variant === 'binary') expect(bad[0]!.binary).toBe(true);
        if (variant === 'huge') expect(bad[0]!.text.length).toBeGreaterThanOrEqual(HUGE - 64);
        if (variant === 'truncated-json') expect(() => JSON.parse(bad[0]!.text)).toThrow();
        if (variant === 'wrong-types') expect(() => JSON.parse(bad[0]!.text)).not.toThrow();
        const i = after.indexOf(bad[0]!);
        expect(after.slice(i + 1).filter((f) => v.isData(f.text)).length).toBeGreaterThan(20);
      });
    }

    it('record: true logs exactly what each connection received, byte for byte', async () => {
      const sim = await start({ rate: 300, record: true });
      const a = await v.connect(sim);
      const b = await v.connect(sim);
      v.subscribe(a);
      v.subscribe(b);
      await waitFor(() => dataCount(a) > 30 && dataCount(b) > 30, 'data');
      sim.inject({ kind: 'stale', ms: 60_000 });
      const of = (c: TestClient): string[] => sim.sent().filter((f) => f.connectionId === c.connectionId).map((f) => f.text);
      await waitFor(() => a.frames.length === of(a).length && b.frames.length === of(b).length, 'quiescence');
      expect(a.texts()).toEqual(of(a));
      expect(b.texts()).toEqual(of(b));
      const seqs = sim.sent().filter((f) => f.connectionId === a.connectionId).map((f) => f.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      const stats = sim.stats();
      expect(stats.framesSent).toBe(sim.sent().length);
      expect(stats.bytesSent).toBe(sim.sent().reduce((n, f) => n + Buffer.byteLength(f.text), 0));
    });

    it('the same seed gives the same frames, another seed different ones', async () => {
      const run = async (seed: number): Promise<string[]> => {
        const sim = await start({ rate: 'max', seed });
        const c = await v.connect(sim);
        v.subscribe(c);
        await waitFor(() => dataCount(c) >= 300, 'data');
        await c.close();
        return c.texts().filter((t) => v.isData(t)).slice(0, 300);
      };
      const [a, b, other] = [await run(7), await run(7), await run(8)];
      expect(a).toEqual(b);
      expect(other).not.toEqual(a);
    });

    for (const r of v.replays) {
      it(`replays ${r.label ?? r.file.split('/').pop()} line by line`, async () => {
        const lines = readFileSync(r.file, 'utf8').split('\n').filter((l) => l.trim() !== '');
        const sim = await start({ replay: { file: r.file, rate: 'max' }, record: true });
        const c = await v.connect(sim);
        r.subscribe(c);
        const expected = r.expected(lines);
        await waitFor(() => c.texts().filter((t) => v.isData(t)).length >= expected.length, 'replayed lines');
        expect(c.texts().filter((t) => v.isData(t))).toEqual(expected);
      });
    }

    it('replay at a fixed rate paces the lines', async () => {
      const r = v.replays[0]!;
      const sim = await start({ replay: { file: r.file, rate: 20, loop: true } });
      const c = await v.connect(sim);
      r.subscribe(c);
      await waitFor(() => dataCount(c) >= 1, 'first line');
      const t0 = performance.now();
      await waitFor(() => dataCount(c) >= 9, 'ten lines', 3000);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    });
  });
}
