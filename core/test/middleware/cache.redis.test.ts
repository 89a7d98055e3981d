import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCacheContract } from '../../../test/contracts/cache.contract.js';
import { resolveBinary } from '../../../test/harness/binaries.js';
import { canConnect, getFreePort, LOOPBACK } from '../../../test/harness/ports.js';
import { spawnServer, waitUntil, type ServerProcess } from '../../../test/harness/process.js';
import { startRedis, type RedisServer } from '../../../test/harness/redis.js';
import { openCache } from '../../src/middleware/cache/index.js';
import { openRedisCache, type RedisCache } from '../../src/middleware/cache/redis.js';

/** A redis-server on a fixed port (the harness picks its own), to come back where the old one was. */
async function redisOnPort(port: number): Promise<ServerProcess> {
  const proc = await spawnServer({
    name: 'redis-server',
    command: resolveBinary('redis-server'),
    args: ['--port', String(port), '--bind', LOOPBACK, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    graceMs: 5_000,
  });
  await proc.waitReady(() => canConnect(port), { timeoutMs: 20_000, description: `listening on ${port}` });
  return proc;
}

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

describeCacheContract('redis', async (keyPrefix) => ({
  cache: await openRedisCache({ url: server.url, keyPrefix }),
  advance: async () => undefined, // real Redis TTLs: the contract polls
}));

describe('RedisCache faults', () => {
  const caches: RedisCache[] = [];
  const procs: ServerProcess[] = [];
  afterAll(async () => {
    await Promise.all(caches.map((c) => c.close()));
    await Promise.all(procs.map((p) => p.stop()));
  });

  it('is what openCache({ kind: "redis" }) returns', async () => {
    const cache = await openCache({ kind: 'redis', url: server.url, keyPrefix: 'factory:' });
    expect(cache.kind).toBe('redis');
    await cache.close();
  });

  it('requires a key prefix', async () => {
    await expect(openRedisCache({ url: server.url, keyPrefix: '' })).rejects.toThrow(/keyPrefix/);
  });

  it('degrades while Redis is down and recovers when it comes back on the same port', async () => {
    const own = await startRedis();
    const cache = await openRedisCache({ url: own.url, keyPrefix: 'fault:' });
    caches.push(cache);
    await cache.set('k', 'v', 60_000);
    expect(await cache.get('k')).toBe('v');
    expect(cache.degraded).toBe(false);

    await own.stop();
    const errorsBefore = cache.stats().errors;
    let t = Date.now();
    expect(await cache.get('k')).toBeUndefined();
    expect(Date.now() - t).toBeLessThan(1_000);
    t = Date.now();
    await expect(cache.set('k', 'v2', 60_000)).resolves.toBeUndefined();
    await expect(cache.delete('k')).resolves.toBeUndefined();
    expect(Date.now() - t).toBeLessThan(1_000);
    expect(cache.stats().errors).toBeGreaterThanOrEqual(errorsBefore + 3);
    expect(cache.degraded).toBe(true);

    procs.push(await redisOnPort(own.port));
    await waitUntil(
      async () => {
        await cache.set('k', 'back', 60_000);
        return (await cache.get('k')) === 'back';
      },
      { timeoutMs: 10_000, intervalMs: 100, description: 'the cache to reconnect' },
    );
    expect(cache.degraded).toBe(false);
  });

  it('opens against a dead port without throwing, then connects when a server appears', async () => {
    const port = await getFreePort();
    const t = Date.now();
    const cache = await openRedisCache({ url: `redis://${LOOPBACK}:${port}`, keyPrefix: 'dead:' });
    caches.push(cache);
    expect(Date.now() - t).toBeLessThan(1_500);
    expect(cache.degraded).toBe(true);
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('k', 'v', 1_000);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 1, errors: 2 });

    procs.push(await redisOnPort(port));
    await waitUntil(async () => !cache.degraded, { timeoutMs: 10_000, description: 'the cache to connect' });
    await cache.set('k', 'v', 60_000);
    expect(await cache.get('k')).toBe('v');
  });
});
