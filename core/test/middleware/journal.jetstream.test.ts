import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeJournalContract } from '../../../test/contracts/journal.contract.js';
import { startNats, type NatsServer } from '../../../test/harness/nats.js';
import { waitUntil } from '../../../test/harness/process.js';
import type { JournalMessage } from '../../src/middleware/journal.js';
import { MiddlewareUnavailableError } from '../../src/middleware/errors.js';
import { openJetStreamJournal } from '../../src/middleware/journal/jetstream.js';

let server: NatsServer;
let confDir: string;

beforeAll(async () => {
  // The contract stores a 1 MiB frame; the server's default max_payload (1 MB) is just below that plus headers.
  confDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ssmd-nats-conf-'));
  const conf = path.join(confDir, 'nats.conf');
  await fsp.writeFile(conf, 'max_payload: 8MB\n');
  server = await startNats({ args: ['-c', conf] });
});

afterAll(async () => {
  await server?.stop();
  await fsp.rm(confDir, { recursive: true, force: true });
});

describeJournalContract('jetstream', async () => {
  const journal = await openJetStreamJournal({ servers: server.url, name: 'journal-contract' });
  return { journal, cleanup: () => journal.close() };
});

describe('JetStreamJournal', () => {
  it('creates file-backed streams with the explicit limits of the spec', async () => {
    const journal = await openJetStreamJournal({ servers: server.url });
    const nc = await connect({ servers: server.url });
    try {
      await journal.ensureStreams([{ name: 'LIMITS_A', subjects: ['lim.a.>'], maxAgeMs: 3_600_000, maxBytes: 10_000_000, discard: 'new', duplicateWindowMs: 90_000 }]);
      const jsm = await jetstreamManager(nc);
      const cfg = (await jsm.streams.info('LIMITS_A')).config;
      expect(cfg).toMatchObject({ storage: 'file', discard: 'new', max_bytes: 10_000_000, max_age: 3_600_000 * 1e6, duplicate_window: 90_000 * 1e6, allow_direct: true });
      await journal.ensureStreams([{ name: 'LIMITS_A', subjects: ['lim.a.>'], maxAgeMs: 0, maxBytes: -1, discard: 'old', duplicateWindowMs: 30_000 }]);
      expect((await jsm.streams.info('LIMITS_A')).config).toMatchObject({ discard: 'old', max_bytes: -1, max_age: 0, duplicate_window: 30_000 * 1e6 });
    } finally {
      await nc.close();
      await journal.close();
    }
  });

  it('fails the first connect with MiddlewareUnavailableError when nothing listens', async () => {
    const err = await openJetStreamJournal({ servers: 'nats://127.0.0.1:1', connectTimeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MiddlewareUnavailableError);
  });
});

describe('JetStreamJournal under a server crash', () => {
  it('kill -9 mid-stream, restart: retries with the same msgId leave exactly N messages, in order, no duplicates', async () => {
    const srv = await startNats();
    const journal = await openJetStreamJournal({ servers: srv.url, publishTimeoutMs: 2_000 });
    try {
      await journal.ensureStreams([{ name: 'FAULT', subjects: ['fault.>'], maxAgeMs: 0, maxBytes: -1, discard: 'old', duplicateWindowMs: 120_000 }]);
      const N = 3_000;
      let acked = 0;
      let failures = 0;
      let duplicates = 0;
      const loop = (async () => {
        for (let i = 0; i < N; i++) {
          for (;;) {
            try {
              const ack = await journal.publish({ subject: `fault.trade.S${i % 5}`, data: Buffer.from(`m${i}`), msgId: `f-${i}` });
              if (ack.duplicate) duplicates++;
              acked++;
              break;
            } catch (err) {
              if (!(err instanceof MiddlewareUnavailableError)) throw err;
              failures++;
              await new Promise((r) => setTimeout(r, 20)); // the caller's retry pause
            }
          }
        }
      })();
      await waitUntil(() => acked >= N / 3, { timeoutMs: 20_000, description: 'a third of the messages acked' });
      await srv.kill('SIGKILL');
      const started = Date.now();
      await waitUntil(() => failures > 0, { timeoutMs: 10_000, description: 'the publisher to see the outage' });
      expect(Date.now() - started).toBeLessThan(5_000); // failed promptly, did not hang
      const ackedAtOutage = acked;
      await srv.restart();
      await loop;
      expect(ackedAtOutage).toBeLessThan(N);

      const info = await journal.info('FAULT');
      expect(info).toMatchObject({ messages: N, firstSeq: 1, lastSeq: N });
      const got: JournalMessage[] = [];
      for await (const m of journal.consume({ stream: 'FAULT', from: 'first', untilCaughtUp: true })) got.push(m);
      expect(got.map((m) => Buffer.from(m.data).toString())).toEqual(Array.from({ length: N }, (_, i) => `m${i}`));
      expect(new Set(got.map((m) => m.msgId)).size).toBe(N);
      expect(failures).toBeGreaterThan(0);
      console.info(`fault test: ${failures} failed attempts, ${duplicates} duplicate acks after the restart`);
    } finally {
      await journal.close();
      await srv.stop();
    }
  }, 60_000);
});
