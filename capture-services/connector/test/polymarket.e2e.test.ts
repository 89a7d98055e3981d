import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../../core/src/environment/index.js';
import type { Environment } from '../../../core/src/environment/schema.js';
import { RealClock } from '../../../core/src/middleware/clock.js';
import { MemoryFindingSink } from '../../../core/src/middleware/findings.js';
import { openMiddleware, type Middleware } from '../../../core/src/middleware/open.js';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import { getRun } from '../../../catalog/src/runs/run.repository.js';
import { fromJournalMessage, type RawFrame } from '../../raw/src/frame.js';
import { startPolymarketSimulator } from '../../simulators/src/index.js';
import { syncPolymarketInstruments } from '../../venues/src/polymarket/instruments.js';
import { runCapture } from '../src/run.js';

const noCredentials = () => Promise.reject(new Error('polymarket needs no credentials'));

describe('runCapture: Polymarket feed of an environment, end to end on the simulator', () => {
  let dir: string;
  let catalog: Catalog;
  let sim: Awaited<ReturnType<typeof startPolymarketSimulator>>;
  let mw: Middleware;
  let env: Environment;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssmd-poly-'));
    sim = await startPolymarketSimulator({ port: 0, record: true, rate: 100, seed: 5 });
    catalog = await openCatalog('pglite:memory');
    await syncPolymarketInstruments(catalog.db, { baseUrl: sim.restUrl, clock: new RealClock() });
    // `crypto` tags every simulator event: 5 active conditions, 10 tokens, so 3 connections of at most 4.
    env = parseEnvironment(`name: lab
day: {timezone: UTC, start: "00:00", end: "24:00"}
feeds:
  - {feed: polymarket, select: {tags: [crypto]}, channels: [book, price_change, last_trade_price, best_bid_ask, tick_size_change, new_market, market_resolved], shards: {max_per_connection: 4}}
storage: {block: data}
`, 'lab.yaml');
    mw = await openMiddleware(env, { home: join(dir, 'home'), cwd: dir, resolveCredential: noCredentials });
  }, 60_000);
  afterAll(async () => {
    await mw?.close();
    await sim?.close();
    await catalog?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shards by tag, journals every frame once, keeps PONG heartbeats, and survives a malformed frame', async () => {
    const ac = new AbortController();
    const findings = new MemoryFindingSink();
    const running = runCapture({ env, feed: 'polymarket', middleware: mw, db: catalog.db, resolveCredential: noCredentials, findings, signal: ac.signal, wsUrl: sim.wsUrl, codeVersion: 'test' });
    await expect.poll(() => sim.stats().connections, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
    await expect.poll(() => sim.stats().framesSent, { timeout: 15_000 }).toBeGreaterThan(300);
    sim.inject({ kind: 'malformed', variant: 'truncated-json' });
    const n = sim.stats().framesSent;
    await expect.poll(() => sim.stats().framesSent, { timeout: 15_000 }).toBeGreaterThan(n + 200);
    // The client PINGs every 10 s; wait for the answers.
    await expect.poll(() => sim.sent().filter((s) => s.text === 'PONG').length, { timeout: 15_000, interval: 200 }).toBeGreaterThanOrEqual(2);
    ac.abort();
    const report = await running;

    expect(report.shards.length).toBeGreaterThanOrEqual(2);
    expect(report.instruments).toBe(10);
    expect(report.shards.every((s) => s.instruments <= 4)).toBe(true);
    const frames: RawFrame[] = [];
    for (const s of mw.streams) {
      for await (const m of mw.journal.consume({ stream: s.name, from: 'first', untilCaughtUp: true })) frames.push(fromJournalMessage('lab', 'polymarket', m));
    }
    const total = report.shards.reduce((a, s) => a + s.stats.frames, 0);
    expect(frames.length).toBe(total);
    expect(new Set(frames.map((f) => `${f.conn}:${f.connSeq}`)).size).toBe(total); // no duplicates
    const byConn = new Map<string, RawFrame[]>();
    for (const f of frames) byConn.set(f.conn, [...(byConn.get(f.conn) ?? []), f]);
    expect(byConn.size).toBe(report.shards.length);
    for (const list of byConn.values()) expect(list.map((f) => f.connSeq)).toEqual(list.map((_, i) => i + 1));

    // Every frame the simulator sent is journaled exactly once (as a multiset: connections share texts such as PONG).
    const count = (texts: string[]) => texts.reduce((m, t) => m.set(t, (m.get(t) ?? 0) + 1), new Map<string, number>());
    const sent = sim.sent();
    expect(sent.length).toBe(total);
    const ours = count(frames.map((f) => Buffer.from(f.bytes).toString('utf8')));
    const theirs = count(sent.map((s) => s.text));
    const diff = [...new Set([...ours.keys(), ...theirs.keys()])].filter((t) => ours.get(t) !== theirs.get(t)).slice(0, 5);
    expect(diff).toEqual([]);

    // PONG: journaled, classified heartbeat.
    const pongs = frames.filter((f) => Buffer.from(f.bytes).toString('utf8') === 'PONG');
    expect(pongs.length).toBe(sent.filter((s) => s.text === 'PONG').length);
    expect(pongs.every((f) => f.type === 'pong' && f.symbol === '_')).toBe(true);
    const byKind = (k: keyof (typeof report.shards)[number]['stats']['byKind']) => report.shards.reduce((a, s) => a + s.stats.byKind[k], 0);
    expect(byKind('heartbeat')).toBe(pongs.length);

    // The malformed frame (one per open connection) became a finding; capture went on after it.
    expect(byKind('malformed')).toBe(report.shards.length);
    const kinds = findings.findings.map((f) => f.kind);
    expect(kinds).toContain('malformed_frame');
    expect(kinds).not.toContain('unknown_message');
    expect(byKind('data')).toBeGreaterThan(300);
    expect(frames.some((f) => f.type === 'book')).toBe(true);
    expect((await getRun(catalog.db, report.runId))?.status).toBe('succeeded');
  }, 40_000);
});
