import { afterEach, describe, expect, it } from 'vitest';
import type { BaseSimulatorOptions, MalformedVariant, SimulatorHandle } from '../../simulators/src/index.js';
import type { Classification } from '../src/classification.js';
import type { VenueFeedOverrides, WsFeedBase } from '../src/ws-feed-base.js';
import { CountingClock, collect, receivedBytes, sentBytes, waitFor } from './helpers.js';
import type { Collector } from './helpers.js';

/** What a venue's feed test plugs into the shared scenarios. */
export interface VenueHarness {
  venue: string;
  classify(bytes: Uint8Array): Classification;
  startSimulator(o: BaseSimulatorOptions): Promise<SimulatorHandle>;
  makeFeed(sim: SimulatorHandle, o: VenueFeedOverrides): WsFeedBase;
}

/** Open simulators and feeds, closed after each test (the test process must not hang). */
export function lifecycle(): { sims: SimulatorHandle[]; feeds: WsFeedBase[] } {
  const sims: SimulatorHandle[] = [];
  const feeds: WsFeedBase[] = [];
  afterEach(async () => {
    for (const f of feeds.splice(0)) await f.stop();
    for (const s of sims.splice(0)) await s.close();
  });
  return { sims, feeds };
}

export const dataFrames = (c: Collector, classify: VenueHarness['classify'], conn?: string) =>
  c.frames(conn).filter((f) => classify(f.bytes).kind === 'data');

/**
 * The frames received on `conn` equal, byte for byte and in order, what the simulator recorded for its connection
 * `simId` (a prefix when the connection was cut: frames in flight at a `terminate()` may never arrive).
 */
export function expectSameBytes(c: Collector, conn: string, sim: SimulatorHandle, simId: string, exact: boolean): void {
  const got = receivedBytes(c, conn);
  const sent = sentBytes(sim, simId);
  expect(got.length).toBeGreaterThan(0);
  if (exact) expect(got.length).toBe(sent.length);
  else expect(got.length).toBeLessThanOrEqual(sent.length);
  const mismatch = got.findIndex((b, i) => !b.equals(sent[i] as Buffer));
  expect(mismatch).toBe(-1);
}

/** The scenarios every venue feed passes against its simulator: exact bytes, disconnect, stale, malformed, abort. */
export function describeFeedScenarios(h: VenueHarness): void {
  describe(`${h.venue} feed against its simulator`, () => {
    const { sims, feeds } = lifecycle();
    const start = async (simOptions: BaseSimulatorOptions = {}, feedOptions: VenueFeedOverrides = {}) => {
      const sim = await h.startSimulator({ rate: 200, seed: 7, record: true, ...simOptions });
      sims.push(sim);
      const feed = h.makeFeed(sim, { backoff: { baseMs: 20, capMs: 200 }, ...feedOptions });
      feeds.push(feed);
      return { sim, feed, c: collect(feed) };
    };
    const data = (c: Collector, conn?: string) => dataFrames(c, h.classify, conn);

    it('connects, subscribes, and receives exactly the bytes the simulator sent, in order', async () => {
      const { sim, feed, c } = await start();
      await waitFor(() => data(c).length >= 30, '30 data frames');
      await feed.stop();
      await c.done;
      const [conn] = c.conns() as [string];
      expect(conn).toMatch(new RegExp(`^${h.venue}-0-\\d{13}-1$`));
      expectSameBytes(c, conn, sim, 'c1', true);
      const kinds = c.frames(conn).map((f) => h.classify(f.bytes).kind);
      expect(kinds.filter((k) => k === 'unknown' || k === 'malformed')).toEqual([]);
      expect(c.events.at(-1)).toMatchObject({ kind: 'disconnected', reason: 'aborted', reconnectInMs: null });
    });

    it('disconnect: a disconnected event, reconnect, resubscribe, data again on a new conn with connSeq from 1', async () => {
      const { sim, feed, c } = await start();
      await waitFor(() => data(c).length >= 10, 'data');
      sim.inject({ kind: 'disconnect' });
      await waitFor(() => c.conns().length === 2 && data(c, c.conns()[1]).length >= 10, 'data on the second connection');
      const [first, second] = c.conns() as [string, string];
      const d = c.of('disconnected')[0];
      expect(d).toMatchObject({ conn: first, reason: 'closed by server: code 1006' });
      expect(d?.reconnectInMs).toBeGreaterThanOrEqual(0);
      expect(second).not.toBe(first);
      expect(c.frames(second)[0]?.connSeq).toBe(1);
      expectSameBytes(c, first, sim, 'c1', false);
      await feed.stop();
      expectSameBytes(c, second, sim, 'c2', true); // the resubscription is answered like the first one
      expect(sentBytes(sim, 'c2').slice(0, 3).map((b) => h.classify(b).kind)).toEqual(sentBytes(sim, 'c1').slice(0, 3).map((b) => h.classify(b).kind));
    });

    it('stale: no frame for staleAfterMs triggers a reconnect', async () => {
      const { sim, c } = await start({}, { staleAfterMs: 300 });
      await waitFor(() => data(c).length >= 5, 'data');
      sim.inject({ kind: 'stale', ms: 5000 });
      await waitFor(() => c.conns().length === 2 && data(c, c.conns()[1]).length >= 5, 'data after the stale reconnect');
      expect(c.of('disconnected')[0]?.reason).toMatch(/^stale: no frame for \d+ ms \(staleAfterMs 300\)$/);
    });

    it('malformed: each bad frame is delivered as-is (the classifier says malformed) and the feed keeps running', async () => {
      const { sim, feed, c } = await start({ hugeFrameBytes: 5 * 1024 * 1024 });
      await waitFor(() => data(c).length >= 5, 'data');
      const variants: MalformedVariant[] = ['truncated-json', 'wrong-types', 'huge', 'binary'];
      for (const [i, variant] of variants.entries()) {
        sim.inject({ kind: 'malformed', variant });
        await waitFor(() => c.frames().filter((f) => h.classify(f.bytes).kind === 'malformed').length === i + 1, `the ${variant} frame`);
      }
      const bad = c.frames().filter((f) => h.classify(f.bytes).kind === 'malformed');
      expect(bad.some((f) => f.bytes.length >= 5 * 1024 * 1024 - 64)).toBe(true);
      const after = (bad.at(-1)?.connSeq ?? 0) + 5;
      await waitFor(() => data(c).some((f) => f.connSeq > after), 'data after the last bad frame');
      expect(c.conns()).toHaveLength(1);
      await feed.stop();
      expectSameBytes(c, c.conns()[0] as string, sim, 'c1', true);
    });

    it('abort closes cleanly: no timer left, the simulator sees the close, events end', async () => {
      const clock = new CountingClock();
      const ac = new AbortController();
      const { sim, c } = await start({}, { clock, signal: ac.signal });
      await waitFor(() => data(c).length >= 3, 'data');
      ac.abort();
      await c.done;
      expect(clock.pending).toBe(0);
      await waitFor(() => sim.stats().connections === 0, 'the simulator to see the close');
    });
  });
}
