import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../src/environment/index.js';
import { generateMasterKey } from '../../src/crypto/envelope.js';
import { Redactor } from '../../src/log/redact.js';
import { MiddlewareUnavailableError } from '../../src/middleware/errors.js';
import { openMiddleware, publishedSubjects } from '../../src/middleware/open.js';
import { rawSubject } from '../../src/middleware/subjects.js';
import { openCatalog, type Catalog } from '../../../catalog/src/db/connect.js';
import { addSecret, resolveCredential } from '../../../catalog/src/keys/secret.repository.js';
import { listAudit } from '../../../catalog/src/audit/audit.repository.js';
import { startMosquitto, startNats, startRedis, startSeaweed } from '../../../test/harness/index.js';
import { getFreePort } from '../../../test/harness/ports.js';

const FEEDS = `feeds:
  - {feed: kraken, select: {pairs: [BTC/USD]}, channels: [ticker, trade, book]}
  - {feed: polymarket, name: poly-crypto, select: {tags: [crypto]}, channels: [book, last_trade_price]}`;

describe('openMiddleware: the environment picks each implementation', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssmd-open-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('opens the embedded defaults with no servers and journals a frame', async () => {
    const env = parseEnvironment(`name: lab
day: {timezone: UTC, start: "00:00", end: "24:00"}
${FEEDS}
storage: {block: data}
`, 'lab.yaml');
    const mw = await openMiddleware(env, { home: join(dir, 'home'), cwd: dir, resolveCredential: () => Promise.reject(new Error('no keys needed')) });
    try {
      expect([mw.journal.kind, mw.transport.kind, mw.cache.kind, mw.storage.kind]).toEqual(['local', 'memory', 'memory', 'local']);
      expect(mw.streams.map((s) => s.name)).toEqual(['LAB_KRAKEN_RAW', 'LAB_POLY-CRYPTO_RAW']);
      expect(publishedSubjects(env)).toContain('lab.poly-crypto.raw.last_trade_price.*');
      const ack = await mw.journal.publish({ subject: rawSubject({ env: 'lab', feed: 'kraken', type: 'trade', symbol: 'BTC/USD' }), msgId: 'c:1', data: Buffer.from('{}') });
      expect(ack).toMatchObject({ stream: 'LAB_KRAKEN_RAW', seq: 1, duplicate: false });
      const obj = await mw.storage.putBytes('raw/x.txt', Buffer.from('hello'));
      expect(obj.size).toBe(5);
      // The publisher's buffer comes from the profile (default buffer_mb 64).
      const pub = mw.publisher('kraken-0');
      await pub.publish({ subject: rawSubject({ env: 'lab', feed: 'kraken', type: 'trade', symbol: 'ETH/USD' }), msgId: 'c:2', data: Buffer.from('{}') });
      await pub.close();
      expect((await mw.journal.info('LAB_KRAKEN_RAW')).messages).toBe(2);
      expect(env.profile.buffer_mb).toBe(64);
    } finally {
      await mw.close();
    }
  });

  describe('production middleware on real servers, credentials from the key store', () => {
    let catalog: Catalog;
    const servers: Array<{ stop(): Promise<void> }> = [];
    let nats: Awaited<ReturnType<typeof startNats>>;
    let mqtt: Awaited<ReturnType<typeof startMosquitto>>;
    let redis: Awaited<ReturnType<typeof startRedis>>;
    let s3: Awaited<ReturnType<typeof startSeaweed>>;
    const ctx = { kek: generateMasterKey(), actor: 'test', redactor: new Redactor() };
    const mqttPassword = `pw-${Date.now()}`;

    beforeAll(async () => {
      [nats, mqtt, redis, s3] = await Promise.all([startNats(), startMosquitto({ users: { ssmd: mqttPassword } }), startRedis(), startSeaweed()]);
      servers.push(nats, mqtt, redis, s3);
      catalog = await openCatalog('pglite:memory');
      await addSecret(catalog.db, ctx, { name: 'mqtt-lab', kind: 'mqtt', value: Buffer.from(mqttPassword), attributes: { username: 'ssmd' } });
      await addSecret(catalog.db, ctx, { name: 's3-lab', kind: 's3', value: Buffer.from(s3.secretAccessKey), attributes: { access_key_id: s3.accessKeyId } });
      const { openS3ObjectStore } = await import('../../src/middleware/storage/s3.js');
      const admin = await openS3ObjectStore({ endpoint: s3.endpoint, region: s3.region, bucket: 'ssmd-archive', prefix: 'admin', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });
      await admin.ensureBucket();
      await admin.close();
    }, 120_000);
    afterAll(async () => {
      await catalog?.close();
      await Promise.all(servers.map((s) => s.stop()));
    });

    const prodEnv = (natsUrl: string) => parseEnvironment(`name: lab
day: {timezone: UTC, start: "00:00", end: "24:00"}
${FEEDS}
middleware: {journal: jetstream, transport: mqtt, cache: redis, storage: s3, scheduler: local}
servers:
  nats: {url: "${natsUrl}"}
  mqtt: {url: "${mqtt.url}", credentials: "key:mqtt-lab"}
  redis: {url: "${redis.url}"}
storage: {block: data, s3: {bucket: ssmd-archive, prefix: envs/, endpoint: "${s3.endpoint}", region: us-east-1, credentials: "key:s3-lab"}}
`, 'lab.yaml');

    it('opens JetStream, MQTT, Redis and S3, declares the raw streams and audits each key use', async () => {
      const mw = await openMiddleware(prodEnv(nats.url), { home: join(dir, 'home2'), cwd: dir, resolveCredential: (name, purpose) => resolveCredential(catalog.db, ctx, name, purpose) });
      try {
        expect([mw.journal.kind, mw.transport.kind, mw.cache.kind, mw.storage.kind]).toEqual(['jetstream', 'mqtt', 'redis', 's3']);
        expect((await mw.journal.info('LAB_KRAKEN_RAW')).subjects).toEqual(['lab.kraken.raw.>']);
        const subject = rawSubject({ env: 'lab', feed: 'kraken', type: 'book', symbol: 'BTC/USD' });
        expect((await mw.journal.publish({ subject, msgId: 'm1', data: Buffer.from('{"a":1}') })).seq).toBe(1);
        const got: string[] = [];
        await mw.transport.subscribe('lab.kraken.raw.>', (m) => got.push(m.subject));
        await mw.transport.publish(subject, Buffer.from('x'));
        await expect.poll(() => got).toEqual([subject]);
        await mw.cache.set('k', 'v', 10_000);
        expect(await mw.cache.get('k')).toBe('v');
        expect((await mw.storage.putBytes('raw/2026-11-29/a.jsonl', Buffer.from('line\n'))).size).toBe(5);
        expect(await mw.storage.head('raw/2026-11-29/a.jsonl')).toMatchObject({ key: 'raw/2026-11-29/a.jsonl', size: 5 });
      } finally {
        await mw.close();
      }
      const uses = await listAudit(catalog.db, { action: 'key.use' });
      expect(uses.map((u) => `${u.target}:${(u.detail as { purpose: string }).purpose}`).sort()).toEqual(['key:mqtt-lab:transport', 'key:s3-lab:storage']);
    });

    it('fails fast when a chosen server is unreachable, leaving nothing open', async () => {
      const dead = `nats://127.0.0.1:${await getFreePort()}`;
      const t0 = Date.now();
      const err = await openMiddleware(prodEnv(dead), { home: join(dir, 'home3'), cwd: dir, resolveCredential: (name, purpose) => resolveCredential(catalog.db, ctx, name, purpose) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MiddlewareUnavailableError);
      expect(Date.now() - t0).toBeLessThan(15_000);
    });
  });
});
