import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMasterKey } from '../../../core/src/crypto/envelope.js';
import { parseEnvironment } from '../../../core/src/environment/index.js';
import { Redactor } from '../../../core/src/log/redact.js';
import { RealClock } from '../../../core/src/middleware/clock.js';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import { listFindings } from '../../../catalog/src/dq/finding.repository.js';
import { addSecret, resolveCredential } from '../../../catalog/src/keys/secret.repository.js';
import { replay } from '../../archiver/src/index.js';
import type { RawFrame } from '../../raw/src/frame.js';
import { startKalshiSimulator, startKrakenSimulator, startPolymarketSimulator } from '../../simulators/src/index.js';
import { syncKalshiInstruments } from '../../venues/src/kalshi/instruments.js';
import { syncPolymarketInstruments } from '../../venues/src/polymarket/instruments.js';
import { runDay } from '../src/day.js';

type Sim = { wsUrl: string; restUrl: string; inject(f: object): void; sent(): Array<{ connectionId: string; text: string }>; stats(): { framesSent: number; connectionsTotal: number }; close(): Promise<void> };

/**
 * Issue 4's acceptance: each venue's connector runs against its simulator through the scripted
 * faults, and the archive of the run is complete: every frame the simulator sent is in the archive
 * exactly once, in order per connection, and each fault appears as a finding.
 */
describe('each venue through its faults: the archive holds every frame the simulator sent, once, in order', () => {
  let dir: string;
  let catalog: Catalog;
  const ctx = { kek: generateMasterKey(), actor: 'test', redactor: new Redactor() };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssmd-faults-'));
    catalog = await openCatalog('pglite:memory');
  });
  afterAll(async () => {
    await catalog.close();
    await rm(dir, { recursive: true, force: true });
  });

  const cases: Array<{ venue: 'kalshi' | 'polymarket' | 'kraken'; start: () => Promise<Sim>; feedYaml: string; prepare?: (sim: Sim) => Promise<void>; faults: Array<[object, string]> }> = [
    {
      venue: 'kraken', start: () => startKrakenSimulator({ port: 0, record: true, rate: 200, seed: 11 }) as Promise<Sim>,
      feedYaml: '{feed: kraken, select: {pairs: [BTC/USD, ETH/USD]}, channels: [ticker, trade, book]}',
      faults: [[{ kind: 'malformed', variant: 'truncated-json' }, 'malformed_frame'], [{ kind: 'disconnect' }, 'gap']],
    },
    {
      venue: 'polymarket', start: () => startPolymarketSimulator({ port: 0, record: true, rate: 200, seed: 12 }) as Promise<Sim>,
      feedYaml: '{feed: polymarket, select: {tags: [crypto]}, channels: [book, price_change, last_trade_price, best_bid_ask, tick_size_change, new_market, market_resolved], shards: {max_per_connection: 4}}',
      prepare: async (sim) => { await syncPolymarketInstruments(catalog.db, { baseUrl: sim.restUrl, clock: new RealClock() }); },
      faults: [[{ kind: 'malformed', variant: 'wrong-types' }, 'malformed_frame'], [{ kind: 'disconnect' }, 'gap']],
    },
    (() => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      return {
        venue: 'kalshi' as const, start: () => startKalshiSimulator({ port: 0, record: true, rate: 150, seed: 13, keys: { 'kid-9': publicKey.export({ type: 'spki', format: 'pem' }) as string } }) as Promise<Sim>,
        feedYaml: '{feed: kalshi, select: {series: [KXBTCD], status: open}, channels: [ticker, trade, orderbook_delta], shards: {max_per_connection: 5}, credentials: "key:kalshi-9"}',
        prepare: async (sim: Sim) => {
          await addSecret(catalog.db, ctx, { name: 'kalshi-9', kind: 'kalshi-rsa', value: Buffer.from(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string), attributes: { key_id: 'kid-9' } });
          await syncKalshiInstruments(catalog.db, { baseUrl: sim.restUrl, clock: new RealClock(), select: { series: ['KXBTCD'] } });
        },
        faults: [[{ kind: 'sequence-gap', skip: 2 }, 'sequence_gap'], [{ kind: 'malformed', variant: 'huge' }, 'malformed_frame'], [{ kind: 'disconnect' }, 'gap']] as Array<[object, string]>,
      };
    })(),
  ];

  for (const c of cases) {
    it(`${c.venue}`, async () => {
      const sim = await c.start();
      try {
        await c.prepare?.(sim);
        const env = parseEnvironment(`name: f-${c.venue}\nday: {timezone: UTC, start: "00:00", end: "24:00"}\nfeeds:\n  - ${c.feedYaml}\nstorage: {block: data-${c.venue}}\n`, 'env.yaml');
        const ac = new AbortController();
        const t0 = Date.now();
        const day = runDay({ env, home: join(dir, `home-${c.venue}`), cwd: dir, db: catalog.db, resolveCredential: (n, p) => resolveCredential(catalog.db, ctx, n, p), signal: ac.signal, codeVersion: 'test', statusFile: join(dir, `${c.venue}.json`), wsUrls: { [c.venue]: sim.wsUrl } });
        let sent = 0;
        const advance = async (n: number) => { sent = sim.stats().framesSent; await expect.poll(() => sim.stats().framesSent, { timeout: 20_000 }).toBeGreaterThan(sent + n); };
        await advance(300);
        for (const [fault] of c.faults) {
          sim.inject(fault);
          await advance(200);
        }
        ac.abort();
        const status = await day;
        expect(status.state).toBe('stopped');

        // The archive, read back through replay(), against what the simulator sent on each connection.
        const archived: RawFrame[] = [];
        for await (const f of replay({ blockDir: join(dir, `data-${c.venue}`), env: env.name, feed: c.venue, from: new Date(t0 - 60_000), to: new Date(Date.now() + 60_000) })) archived.push(f);
        const byConn = new Map<string, RawFrame[]>();
        for (const f of archived) byConn.set(f.conn, [...(byConn.get(f.conn) ?? []), f]);
        for (const frames of byConn.values()) expect(frames.map((f) => f.connSeq)).toEqual(frames.map((_, i) => i + 1)); // in order, once, no holes
        const captured = status.feeds[0]!.shards.reduce((n, s) => n + s.stats.frames, 0);
        expect(archived.length).toBe(captured);
        // Connections pair up in the order they were opened (sim connection ids and ours both sort by opening).
        const ours = [...byConn.values()].sort((a, b) => (a[0]!.recvNs < b[0]!.recvNs ? -1 : 1)).map((l) => l.map((f) => Buffer.from(f.bytes).toString('utf8')));
        const simConns = new Map<string, string[]>();
        for (const s of sim.sent()) simConns.set(s.connectionId, [...(simConns.get(s.connectionId) ?? []), s.text]);
        const theirs = [...simConns.values()];
        expect(ours.length).toBe(theirs.length);
        const ourAll = new Set(ours.flat());
        const missing = theirs.flat().filter((t) => !ourAll.has(t));
        expect(missing.length, `${missing.length} simulator frames missing from the archive, e.g. ${missing[0]?.slice(0, 120)}`).toBe(0);

        const kinds = new Set((await listFindings(catalog.db, { feed: c.venue })).map((f) => f.kind));
        for (const [, kind] of c.faults) expect([...kinds], `finding ${kind}`).toContain(kind);
      } finally {
        await sim.close();
      }
    }, 90_000);
  }
});
