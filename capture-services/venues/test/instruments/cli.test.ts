import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliSandbox } from '../../../../tools/test/cli-harness.js';
import { startKrakenSimulator, kraken, type SimulatorHandle } from '../../../simulators/src/index.js';

describe('ssmd secmaster (in-process CLI against the Kraken simulator)', () => {
  let box: CliSandbox;
  let sim: SimulatorHandle;
  beforeAll(async () => {
    box = await CliSandbox.create();
    sim = await startKrakenSimulator();
  });
  afterAll(async () => {
    await sim?.close();
    await box?.dispose();
  });

  it('sync --feed kraken, then list and show', async () => {
    const sync = await box.json(['secmaster', 'sync', '--feed', 'kraken', '--url', sim.restUrl]);
    expect(sync.code).toBe(0);
    expect(sync.body).toMatchObject({ feed: 'kraken', full: true, fetched: { kraken_pairs: 4 }, outcomes: { kraken_pairs: { inserted: 4, changed: 0, delisted: 0, invalid: 0 } } });
    expect(sync.stderr).toBe('');

    const list = await box.json<Array<Record<string, unknown>>>(['secmaster', 'list', 'kraken_pairs']);
    expect(list.code).toBe(0);
    expect(list.body.map((r) => r.symbol)).toEqual(kraken.DEFAULT_KRAKEN_INSTRUMENTS.map((i) => i.symbol).sort());
    expect(list.body[0]).toMatchObject({ symbol: 'BTC/USD', wsname: 'XBT/USD', pair_key: 'XXBTZUSD', tick_size: '0.1', valid_to: null, run_id: sync.body.runId });

    const before = await box.json<unknown[]>(['secmaster', 'list', 'kraken_pairs', '--as-of', '2020-01-01T00:00:00Z']);
    expect(before.body).toEqual([]);

    const text = await box.run(['secmaster', 'list', 'kraken_pairs', '--limit', '2']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^SYMBOL\s+PAIR_KEY\s+WSNAME\s+STATUS\s+PAIR_DECIMALS\s+TICK_SIZE\s+ORDERMIN\s+VALID_FROM$/);
    expect(text.stdout.trim().split('\n')).toHaveLength(3);
    expect(text.stderr).toMatch(/showing 2 of 4 kraken_pairs in force/);

    const again = await box.run(['secmaster', 'sync', '--feed', 'kraken', '--url', sim.restUrl]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^kraken secmaster sync \(full\) run [0-9a-f-]+ at \S+Z\nENTITY\s+FETCHED\s+INSERTED\s+CHANGED\s+UNCHANGED\s+DELISTED\s+INVALID\s+DUPLICATE\nkraken_pairs\s+4\s+0\s+0\s+4\s+0\s+0\s+0\n$/);

    const show = await box.json<Array<Record<string, unknown>>>(['secmaster', 'show', 'kraken_pairs', 'ETH/USD']);
    expect(show.body).toHaveLength(1);
    expect(show.body[0]).toMatchObject({ symbol: 'ETH/USD', altname: 'ETHUSD', base: 'ETH', quote: 'USD' });
    const showText = await box.run(['secmaster', 'show', 'kraken_pairs', 'ETH/USD']);
    expect(showText.stdout).toMatch(/^kraken_pairs ETH\/USD: 1 version\n#1 {2}\S+ → open {2}run [0-9a-f-]+\n {4}pair_key\s+XETHZUSD\n/);

    const audit = await box.json<Array<Record<string, unknown>>>(['audit', '--action', 'secmaster.sync']);
    expect(audit.body).toHaveLength(2);
    expect(audit.body[0]).toMatchObject({ actor: 'tester@test', target: 'feed:kraken', outcome: 'ok' });
  });

  it('reports usage errors, unknown instruments and venue errors with the right exit codes', async () => {
    const missing = await box.run(['secmaster', 'show', 'kraken_pairs', 'NOPE/USD']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no kraken_pairs with symbol NOPE/USD');

    const wrongFlag = await box.run(['secmaster', 'sync', '--feed', 'kraken', '--url', sim.restUrl, '--series', 'KXBTCD']);
    expect(wrongFlag.code).toBe(1);
    expect(wrongFlag.stderr).toContain('--series applies to --feed kalshi only');

    const badEntity = await box.run(['secmaster', 'list', 'kraken_pair']);
    expect(badEntity.code).toBe(2);

    const badStatus = await box.json(['secmaster', 'sync', '--feed', 'kalshi', '--url', sim.restUrl, '--status', 'active']);
    expect(badStatus.code).toBe(2);
    expect(badStatus.body).toMatchObject({ error: { code: 'CONFIG_INVALID' } });

    const unknownPair = await box.json(['secmaster', 'sync', '--feed', 'kraken', '--url', sim.restUrl, '--pairs', 'NOPEUSD']);
    expect(unknownPair.code).toBe(1);
    expect(unknownPair.body).toMatchObject({ error: { code: 'SECMASTER_SYNC_FAILED', message: expect.stringContaining('EQuery:Unknown asset pair') } });
  });
});
