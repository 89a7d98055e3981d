import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../harness/process.js';
import { startRedis, type RedisServer } from '../harness/redis.js';

describe('redis smoke', () => {
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  }, 60_000);

  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('runs its own server, not the system one on 6379', async () => {
    expect(server.port).not.toBe(6379);
    const info = await redis.info('server');
    expect(info).toContain(`tcp_port:${server.port}`);
    expect(await redis.dbsize()).toBe(0);
  });

  it('set with TTL, get, ttl', async () => {
    expect(await redis.set('ssmd:smoke', 'hello', 'EX', 120)).toBe('OK');
    expect(await redis.get('ssmd:smoke')).toBe('hello');
    const ttl = await redis.ttl('ssmd:smoke');
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);
    expect(await redis.ttl('ssmd:missing')).toBe(-2);
    await redis.set('ssmd:short', 'x', 'PX', 50);
    const pttl = await redis.pttl('ssmd:short');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(50);
    await waitUntil(async () => (await redis.get('ssmd:short')) === null, {
      timeoutMs: 5_000,
      intervalMs: 20,
      description: 'ssmd:short to expire',
    });
  });

  it('stop() is idempotent and the port is released', async () => {
    const other = await startRedis();
    const c = new Redis(other.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    c.on('error', () => {});
    await c.connect();
    expect(await c.ping()).toBe('PONG');
    c.disconnect();
    await Promise.all([other.stop(), other.stop()]);
    await other.stop();
    const after = new Redis(other.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    after.on('error', () => {});
    await expect(after.connect()).rejects.toThrow();
    after.disconnect();
  });
});
