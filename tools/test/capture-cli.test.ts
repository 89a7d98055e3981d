import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKrakenSimulator } from '../../capture-services/simulators/src/index.js';
import { CliSandbox } from './cli-harness.js';

describe('ssmd capture (embedded middleware, Kraken simulator)', () => {
  let box: CliSandbox;
  let sim: Awaited<ReturnType<typeof startKrakenSimulator>>;
  beforeAll(async () => {
    box = await CliSandbox.create();
    sim = await startKrakenSimulator({ port: 0, rate: 200, seed: 1 });
    expect((await box.run(['init'])).code).toBe(0);
    await writeFile(join(box.dir, 'lab.yaml'), `name: lab
day: {timezone: UTC, start: "00:00", end: "24:00"}
feeds:
  - {feed: kraken, select: {pairs: [BTC/USD, ETH/USD]}, channels: [ticker, trade, book], shards: {max_per_connection: 1}}
storage: {block: data}
`);
  });
  afterAll(async () => {
    await sim.close();
    await box.dispose();
  });

  it('captures for a duration, one connection per shard, and reports the run', async () => {
    const r = await box.json(['capture', '--env', 'lab.yaml', '--feed', 'kraken', '--ws-url', sim.wsUrl, '--duration', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.body.shards).toHaveLength(2);
    for (const s of r.body.shards) {
      expect(s.instruments).toBe(1);
      expect(s.stats.frames).toBeGreaterThan(50);
      expect(s.stats.byKind.malformed).toBe(0);
    }
    expect(sim.stats().connectionsTotal).toBe(2);
  });

  it('records a disconnect as a gap finding, listed by ssmd findings', async () => {
    const capture = box.json(['capture', '--env', 'lab.yaml', '--feed', 'kraken', '--ws-url', sim.wsUrl, '--duration', '3']);
    const before = sim.stats().connectionsTotal;
    await expect.poll(() => sim.stats().connectionsTotal, { timeout: 10_000 }).toBe(before + 2);
    await new Promise((r) => setTimeout(r, 500));
    sim.inject({ kind: 'disconnect' });
    expect((await capture).code).toBe(0);
    const f = await box.json(['findings', '--feed', 'kraken', '--kind', 'gap']);
    expect(f.body.length).toBeGreaterThanOrEqual(1);
    expect(f.body.every((x: { summary: string }) => /kraken shard \d disconnected for [\d.]+ s/.test(x.summary))).toBe(true);
  });

  it('serves Prometheus metrics during capture to a key with data:read, and to nobody else', async () => {
    const { getFreePort } = await import('../../test/harness/ports.js');
    const port = await getFreePort();
    const token = (await box.run(['keys', 'api', 'create', 'prometheus', '--scopes', 'data:read'])).stdout.trim();
    const capture = box.run(['capture', '--env', 'lab.yaml', '--feed', 'kraken', '--ws-url', sim.wsUrl, '--duration', '3', '--metrics-port', String(port)]);
    const url = `http://127.0.0.1:${port}/metrics`;
    await expect.poll(async () => {
      const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
      return r?.ok ? r.text() : '';
    }, { timeout: 10_000 }).toMatch(/ssmd_capture_frames_total\{feed="kraken",shard="1",kind="data"\} [1-9]/);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer ssmd_aaaaaaaaaaaa_nope' } })).status).toBe(403);
    expect((await capture).code).toBe(0);
  });

  it('refuses a feed the environment does not have', async () => {
    const r = await box.run(['capture', '--env', 'lab.yaml', '--feed', 'kalshi', '--duration', '1']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/environment lab has no feed kalshi \(feeds: kraken\)/);
  });
});

describe('ssmd capture then ssmd archive: the day lands on block storage with a manifest', () => {
  let box: CliSandbox;
  let sim: Awaited<ReturnType<typeof startKrakenSimulator>>;
  beforeAll(async () => {
    box = await CliSandbox.create();
    sim = await startKrakenSimulator({ port: 0, rate: 300, seed: 2 });
    expect((await box.run(['init'])).code).toBe(0);
    await writeFile(join(box.dir, 'lab.yaml'), `name: lab
day: {timezone: UTC, start: "00:00", end: "24:00"}
feeds:
  - {feed: kraken, select: {pairs: [BTC/USD]}, channels: [ticker, trade, book]}
storage: {block: data}
`);
  });
  afterAll(async () => {
    await sim.close();
    await box.dispose();
  });

  it('archives every captured frame once and closes the day', async () => {
    const cap = await box.json(['capture', '--env', 'lab.yaml', '--feed', 'kraken', '--ws-url', sim.wsUrl, '--duration', '2']);
    expect(cap.code, cap.stderr).toBe(0);
    const captured = cap.body.shards[0].stats.frames as number;
    const day = new Date().toISOString().slice(0, 10);
    const arc = await box.json(['archive', '--env', 'lab.yaml', '--feed', 'kraken', '--catch-up', '--close-day', day]);
    expect(arc.code, arc.stderr).toBe(0);
    expect(arc.body.stats.frames).toBe(captured);
    expect(arc.body.manifests[0]).toMatchObject({ day, complete: true });
    expect(arc.body.manifests[0].files.reduce((a: number, f: { lines: number }) => a + f.lines, 0)).toBe(captured);
    expect(arc.body.stats.uploads.pending).toBe(0);
    // A second run has nothing new: nothing archived twice.
    const again = await box.json(['archive', '--env', 'lab.yaml', '--feed', 'kraken', '--catch-up']);
    expect(again.body.stats.frames).toBe(0);
  });
});
