import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKrakenSimulator } from '../../simulators/src/index.js';
import type { SimulatorHandle } from '../../simulators/src/index.js';
import { KrakenFeed } from '../src/kraken/feed.js';
import type { KrakenFeedOptions } from '../src/kraken/feed.js';
import { classify } from '../src/kraken/messages.js';
import { pingRequest, shardPairs, subscribeRequest } from '../src/kraken/subscribe.js';
import { dataFrames, describeFeedScenarios, expectSameBytes, lifecycle } from './feed-suite.js';
import { collect, waitFor } from './helpers.js';

const SYMBOLS = ['BTC/USD', 'ETH/USD', 'POL/USD'];
const feedFor = (sim: SimulatorHandle, o: Partial<KrakenFeedOptions> = {}): KrakenFeed => new KrakenFeed({ url: sim.wsUrl, symbols: SYMBOLS, ...o });

describeFeedScenarios({
  venue: 'kraken',
  classify,
  startSimulator: (o) => startKrakenSimulator(o),
  makeFeed: (sim, o) => feedFor(sim, o),
});

describe('kraken feed: TLS, ping, per-symbol errors, shards', () => {
  const { sims, feeds } = lifecycle();
  let dir: string;
  let tls: { key: string; cert: string };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssmd-kraken-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const start = async (o: Partial<KrakenFeedOptions> = {}, withTls = false) => {
    const sim = await startKrakenSimulator({ rate: 200, seed: 5, record: true, heartbeatMs: 50, ...(withTls ? { tls } : {}) });
    sims.push(sim);
    const feed = feedFor(sim, { backoff: { baseMs: 20, capMs: 200 }, ...o });
    feeds.push(feed);
    return { sim, feed, c: collect(feed) };
  };

  it('over TLS (wss, self-signed certificate trusted through `tls.ca`): exact bytes', async () => {
    const { sim, feed, c } = await start({ tls: { ca: tls.cert } }, true);
    expect(sim.wsUrl).toMatch(/^wss:\/\//);
    await waitFor(() => dataFrames(c, classify).length >= 20, 'data over TLS');
    await feed.stop();
    expectSameBytes(c, c.conns()[0] as string, sim, 'c1', true);
  });

  it('over TLS without trusting the certificate: refused, reported, retried', async () => {
    const { c } = await start({}, true);
    await waitFor(() => c.of('disconnected').length >= 2, 'two failed attempts');
    expect(c.of('error')[0]?.message).toMatch(/self[- ]signed certificate/);
    expect(c.of('connected')).toHaveLength(0);
  });

  it('subscribes per channel with the book depth; acks per symbol; app ping with a fresh req_id gets pong', async () => {
    const { c } = await start({ bookDepth: 25, heartbeat: { kind: 'text', intervalMs: 40 } });
    const texts = () => c.frames().map((f) => Buffer.from(f.bytes).toString());
    const count = (type: string) => c.frames().filter((f) => classify(f.bytes).type === type).length;
    await waitFor(() => count('pong') >= 3 && count('heartbeat') >= 1, '3 pongs and a heartbeat');
    const acks = texts().filter((t) => t.includes('"method":"subscribe"')).map((t) => JSON.parse(t) as { req_id: number; result: { channel: string; symbol: string; depth?: number } });
    expect(acks).toHaveLength(9);
    expect(acks.filter((a) => a.result.channel === 'book').map((a) => a.result.depth)).toEqual([25, 25, 25]);
    const pongIds = texts().filter((t) => t.includes('"method":"pong"')).map((t) => (JSON.parse(t) as { req_id: number }).req_id);
    expect(pongIds.slice(0, 3)).toEqual([4, 5, 6]); // req_ids 1-3 were the three subscribe requests
  });

  it('a refused symbol gives an error event; the others stream', async () => {
    const { c } = await start({ symbols: ['BTC/USD', 'NOPE/USD'], channels: ['ticker'] });
    const err = await waitFor(() => c.of('error')[0], 'error event');
    expect(err.message).toContain('Currency pair not supported NOPE/USD');
    await waitFor(() => dataFrames(c, classify).filter((f) => classify(f.bytes).symbol === 'BTC/USD').length >= 3, 'BTC/USD tickers');
  });

  it('requests and shards', () => {
    expect(JSON.parse(subscribeRequest('book', ['BTC/USD'], { depth: 100, reqId: 9 }))).toEqual({ method: 'subscribe', params: { channel: 'book', symbol: ['BTC/USD'], depth: 100 }, req_id: 9 });
    expect(JSON.parse(subscribeRequest('trade', ['BTC/USD']))).toEqual({ method: 'subscribe', params: { channel: 'trade', symbol: ['BTC/USD'] } });
    expect(JSON.parse(pingRequest(3))).toEqual({ method: 'ping', req_id: 3 });
    expect(shardPairs(Array.from({ length: 250 }, (_, i) => `P${i}/USD`)).map((s) => s.length)).toEqual([100, 100, 50]);
  });
});
