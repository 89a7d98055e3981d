import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../../core/src/environment/index.js';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import { getRun } from '../../../catalog/src/runs/run.repository.js';
import { startKrakenSimulator } from '../../simulators/src/index.js';
import { runDay, type DayStatus } from '../src/day.js';

describe('runDay: capture and archive a day, then tear down in order', () => {
  let dir: string;
  let catalog: Catalog;
  let sim: Awaited<ReturnType<typeof startKrakenSimulator>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssmd-day-'));
    catalog = await openCatalog('pglite:memory');
    sim = await startKrakenSimulator({ port: 0, rate: 300, seed: 4 });
  });
  afterAll(async () => {
    await sim.close();
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('ends with every captured frame archived once in complete, uploaded day manifests', async () => {
    const env = parseEnvironment(`name: lab
day: {timezone: UTC, start: "00:00", end: "24:00"}
feeds:
  - {feed: kraken, select: {pairs: [BTC/USD, ETH/USD]}, channels: [ticker, trade, book], shards: {max_per_connection: 1}}
  - {feed: kraken, name: kraken-eth, select: {pairs: [ETH/USD]}, channels: [trade]}
storage: {block: data}
`, 'lab.yaml');
    const ac = new AbortController();
    const statusFile = join(dir, 'status.json');
    const running = runDay({ env, home: join(dir, 'home'), cwd: dir, db: catalog.db, resolveCredential: () => Promise.reject(new Error('none')), signal: ac.signal, codeVersion: 'test', statusFile, statusEveryMs: 200, wsUrls: { kraken: sim.wsUrl, 'kraken-eth': sim.wsUrl } });
    await expect.poll(async () => {
      const s = JSON.parse(await readFile(statusFile, 'utf8').catch(() => '{}')) as Partial<DayStatus>;
      return s.feeds?.[0]?.archiver?.frames ?? 0;
    }, { timeout: 15_000 }).toBeGreaterThan(300);
    ac.abort();
    const status = await running;
    expect(status.state).toBe('stopped');
    const captured = (f: number) => status.feeds[f]!.shards.reduce((n, s) => n + s.stats.frames, 0);
    expect(status.feeds[0]!.shards).toHaveLength(2);
    for (const [i, feed] of ['kraken', 'kraken-eth'].entries()) {
      const manifests = status.manifests.filter((m) => m.feed === feed);
      expect(manifests.every((m) => m.complete)).toBe(true);
      expect(manifests.reduce((n, m) => n + m.frames, 0)).toBe(captured(i));
      expect(status.feeds[i]!.archiver?.uploads.pending).toBe(0);
    }
    const onDisk = JSON.parse(await readFile(statusFile, 'utf8')) as DayStatus;
    expect(onDisk.state).toBe('stopped');
    expect((await getRun(catalog.db, status.runId))?.status).toBe('succeeded');
  });
});
