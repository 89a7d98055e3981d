import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMasterKey } from '../../../core/src/crypto/envelope.js';
import { parseEnvironment } from '../../../core/src/environment/index.js';
import { Redactor } from '../../../core/src/log/redact.js';
import { RealClock } from '../../../core/src/middleware/clock.js';
import { openMiddleware, type Middleware } from '../../../core/src/middleware/open.js';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import { CatalogFindingSink } from '../../../catalog/src/dq/catalog-finding-sink.js';
import { listFindings } from '../../../catalog/src/dq/finding.repository.js';
import { addSecret, resolveCredential } from '../../../catalog/src/keys/secret.repository.js';
import { getRun } from '../../../catalog/src/runs/run.repository.js';
import { fromJournalMessage, type RawFrame } from '../../raw/src/frame.js';
import { startKalshiSimulator } from '../../simulators/src/index.js';
import { syncKalshiInstruments } from '../../venues/src/kalshi/instruments.js';
import { runCapture } from '../src/run.js';

describe('runCapture: Kalshi feed of an environment, end to end on the simulator', () => {
  let dir: string;
  let catalog: Catalog;
  let sim: Awaited<ReturnType<typeof startKalshiSimulator>>;
  let mw: Middleware;
  const ctx = { kek: generateMasterKey(), actor: 'test', redactor: new Redactor() };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssmd-run-'));
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    sim = await startKalshiSimulator({ port: 0, record: true, rate: 100, seed: 3, keys: { 'key-1': publicKey.export({ type: 'spki', format: 'pem' }) as string } });
    catalog = await openCatalog('pglite:memory');
    await addSecret(catalog.db, ctx, { name: 'kalshi-sim', kind: 'kalshi-rsa', value: Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), attributes: { key_id: 'key-1' } });
    const clock = new RealClock();
    await syncKalshiInstruments(catalog.db, { baseUrl: sim.restUrl, clock, select: { series: ['KXBTCD'] } });
    const env = parseEnvironment(`name: lab
day: {timezone: UTC, start: "00:00", end: "24:00"}
feeds:
  - {feed: kalshi, select: {series: [KXBTCD], status: open}, channels: [ticker, trade, orderbook_delta], shards: {max_per_connection: 4}, credentials: "key:kalshi-sim"}
storage: {block: data}
`, 'lab.yaml');
    mw = await openMiddleware(env, { home: join(dir, 'home'), cwd: dir, resolveCredential: (n, p) => resolveCredential(catalog.db, ctx, n, p) });
    (globalThis as { testEnv?: unknown }).testEnv = env;
  }, 60_000);
  afterAll(async () => {
    await mw?.close();
    await sim?.close();
    await catalog?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shards the selected markets, signs in, journals every frame once, and records faults in the catalog', async () => {
    const env = (globalThis as { testEnv?: ReturnType<typeof parseEnvironment> }).testEnv!;
    const ac = new AbortController();
    const findings = new CatalogFindingSink(catalog.db, { feed: 'kalshi', source: 'connector:test' });
    let shardsStarted = 0;
    const running = runCapture({ env, feed: 'kalshi', middleware: mw, db: catalog.db, resolveCredential: (n, p) => resolveCredential(catalog.db, ctx, n, p), findings, signal: ac.signal, wsUrl: sim.wsUrl, codeVersion: 'test', onShard: () => { shardsStarted += 1; } });
    await expect.poll(() => sim.stats().connections, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await expect.poll(() => sim.stats().framesSent, { timeout: 15_000 }).toBeGreaterThan(400);
    sim.inject({ kind: 'sequence-gap', skip: 3 });
    const n = sim.stats().framesSent;
    await expect.poll(() => sim.stats().framesSent, { timeout: 15_000 }).toBeGreaterThan(n + 200);
    ac.abort();
    const report = await running;
    await findings.flush();

    expect(shardsStarted).toBe(report.shards.length);
    expect(report.shards.length).toBeGreaterThanOrEqual(2);
    expect(report.shards.every((s) => s.instruments <= 4)).toBe(true);
    const frames: RawFrame[] = [];
    for (const s of mw.streams) {
      for await (const m of mw.journal.consume({ stream: s.name, from: 'first', untilCaughtUp: true })) frames.push(fromJournalMessage('lab', 'kalshi', m));
    }
    const total = report.shards.reduce((a, s) => a + s.stats.frames, 0);
    expect(frames.length).toBe(total);
    expect(new Set(frames.map((f) => `${f.conn}:${f.connSeq}`)).size).toBe(total); // no duplicates
    // Every data frame the simulator sent was journaled.
    const journaled = new Set(frames.map((f) => Buffer.from(f.bytes).toString('utf8')));
    const missing = sim.sent().filter((s) => !journaled.has(s.text));
    expect(missing).toEqual([]);
    expect(frames.some((f) => f.type === 'ticker' && f.symbol.startsWith('KXBTCD-'))).toBe(true);

    const kinds = (await listFindings(catalog.db, { feed: 'kalshi' })).map((f) => f.kind);
    expect(kinds).toContain('sequence_gap');
    expect((await getRun(catalog.db, report.runId))?.status).toBe('succeeded');
    expect(sim.stats().rejectedAuth).toBe(0);
  });
});
