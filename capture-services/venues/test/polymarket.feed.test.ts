import { describe, expect, it } from 'vitest';
import { startPolymarketSimulator } from '../../simulators/src/index.js';
import type { SimulatorHandle } from '../../simulators/src/index.js';
import { PolymarketFeed } from '../src/polymarket/feed.js';
import type { PolymarketFeedOptions } from '../src/polymarket/feed.js';
import { classify } from '../src/polymarket/messages.js';
import { shardAssets, subscribeMessage } from '../src/polymarket/subscribe.js';
import { dataFrames, describeFeedScenarios, lifecycle } from './feed-suite.js';
import { collect, sentBytes, waitFor } from './helpers.js';

/** Token ids are decimal strings of 70+ digits; the simulator seeds a book for any id. */
const asset = (i: number): string => (10n ** 76n + BigInt(i) * 7919n).toString();
const ASSETS = [asset(1), asset(2), asset(3), asset(4)];

const feedFor = (sim: SimulatorHandle, o: Partial<PolymarketFeedOptions> = {}): PolymarketFeed =>
  new PolymarketFeed({ url: sim.wsUrl, assets: ASSETS, ...o });

describeFeedScenarios({
  venue: 'polymarket',
  classify,
  startSimulator: (o) => startPolymarketSimulator(o),
  makeFeed: (sim, o) => feedFor(sim, o),
});

describe('polymarket feed: heartbeat, subscribe, shards', () => {
  const { sims, feeds } = lifecycle();

  it('subscribes with custom_feature_enabled, sends PING, and receives PONG as a heartbeat frame', async () => {
    const sim = await startPolymarketSimulator({ rate: 50, seed: 3, record: true });
    sims.push(sim);
    const feed = feedFor(sim, { heartbeat: { kind: 'text', intervalMs: 40 } });
    feeds.push(feed);
    const c = collect(feed);
    await waitFor(() => c.frames().filter((f) => classify(f.bytes).kind === 'heartbeat').length >= 3, '3 PONGs');
    const first = c.frames()[0];
    expect(classify(first?.bytes ?? new Uint8Array())).toMatchObject({ kind: 'data', type: 'book' }); // no ack: books at once
    expect(JSON.parse(Buffer.from(first?.bytes ?? []).toString()).map((b: { asset_id: string }) => b.asset_id).sort()).toEqual([...ASSETS].sort());
    expect(sentBytes(sim, 'c1').filter((b) => b.toString() === 'PONG').length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(subscribeMessage(['1', '2']))).toEqual({ assets_ids: ['1', '2'], type: 'market', custom_feature_enabled: true });
  });

  it('shards 1,200 assets into 3 connections (500/500/200), each within the 500-asset cap', async () => {
    const assets = Array.from({ length: 1200 }, (_, i) => asset(100 + i));
    const shards = shardAssets(assets);
    expect(shards.map((s) => s.length)).toEqual([500, 500, 200]);
    const sim = await startPolymarketSimulator({ rate: 20, seed: 3 });
    sims.push(sim);
    const cs = shards.map((a, shard) => {
      const feed = feedFor(sim, { assets: a, shard });
      feeds.push(feed);
      return { c: collect(feed), a };
    });
    await waitFor(() => cs.every(({ c }) => dataFrames(c, classify).length >= 1), 'books on every shard');
    expect(sim.stats().connections).toBe(3);
    for (const { c, a } of cs) {
      const books = JSON.parse(Buffer.from(c.frames()[0]?.bytes ?? []).toString()) as Array<{ asset_id: string }>;
      expect(books.map((b) => b.asset_id).sort()).toEqual([...a].sort());
      expect(c.of('disconnected')).toHaveLength(0); // the simulator closes a connection with over 500 assets (1008)
    }
    expect(() => feedFor(sim, { assets: assets.slice(0, 501) })).toThrow(/at most 500/);
  });

  it('without the custom-feature channels, custom_feature_enabled is false', () => {
    expect(JSON.parse(subscribeMessage(['1'], false))).toMatchObject({ custom_feature_enabled: false });
  });
});
