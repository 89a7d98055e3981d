import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKrakenSimulator } from '../../capture-services/simulators/src/index.js';
import { CliSandbox } from './cli-harness.js';

describe('ssmd day start | status | stop (a real background process)', () => {
  let box: CliSandbox;
  let sim: Awaited<ReturnType<typeof startKrakenSimulator>>;
  beforeAll(async () => {
    sim = await startKrakenSimulator({ port: 0, rate: 200, seed: 5 });
    box = await CliSandbox.create({ SSMD_CLI_ENTRY: join(import.meta.dirname, '../src/cli/bin.ts'), SSMD_WS_URL_KRAKEN: sim.wsUrl });
    expect((await box.run(['init'])).code).toBe(0);
    await writeFile(join(box.dir, 'lab.yaml'), `name: lab
day: {timezone: UTC, start: "00:00", end: "24:00"}
feeds:
  - {feed: kraken, select: {pairs: [BTC/USD]}, channels: [ticker, trade]}
storage: {block: data}
`);
  });
  afterAll(async () => {
    await box.run(['day', 'stop', '--env', 'lab.yaml']);
    await sim.close();
    await box.dispose();
  });

  it('starts the day in the background, reports it, refuses a second start, and stops it cleanly', async () => {
    const started = await box.json(['day', 'start', '--env', 'lab.yaml', '--timeout', '60']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.body.state).toBe('running');
    expect((await box.run(['day', 'start', '--env', 'lab.yaml'])).stderr).toMatch(/already running \(pid \d+\)/);
    await expect.poll(async () => (await box.json(['day', 'status', '--env', 'lab.yaml'])).body.feeds[0].archiver?.frames ?? 0, { timeout: 20_000, interval: 500 }).toBeGreaterThan(100);
    // The embedded catalog belongs to the running day: another process is told so, clearly.
    const busy = await box.run(['env', 'list']);
    expect(busy.stderr).toMatch(/embedded catalog .* is in use by process \d+/);
    const stopped = await box.json(['day', 'stop', '--env', 'lab.yaml', '--timeout', '60']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.body.state).toBe('stopped');
    const captured = stopped.body.feeds[0].shards.reduce((n: number, s: { stats: { frames: number } }) => n + s.stats.frames, 0);
    expect(stopped.body.manifests.reduce((n: number, m: { frames: number }) => n + m.frames, 0)).toBe(captured);
    expect(stopped.body.manifests.every((m: { complete: boolean }) => m.complete)).toBe(true);
    expect((await box.run(['day', 'stop', '--env', 'lab.yaml'])).stderr).toMatch(/is not running \(last state: stopped\)/);
    expect((await box.run(['env', 'list'])).code).toBe(0); // the catalog is free again
  }, 120_000);
});
