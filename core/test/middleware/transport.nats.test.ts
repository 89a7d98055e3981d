import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MiddlewareUnavailableError } from '../../src/middleware/errors.js';
import { openTransport } from '../../src/middleware/transport/index.js';
import { openNatsTransport } from '../../src/middleware/transport/nats.js';
import { describeTransportContract, listen, waitFor } from '../../../test/contracts/transport.contract.js';
import { getFreePort, startNats, type NatsServer } from '../../../test/harness/index.js';

let server: NatsServer;
beforeAll(async () => {
  server = await startNats();
});
afterAll(async () => {
  await server?.stop();
});

describeTransportContract('nats', async () => {
  const transport = await openNatsTransport({ servers: server.url, name: 'contract' });
  return { transport, cleanup: () => transport.close() };
});

describe('NatsTransport', () => {
  test('a subscription is active at the server when subscribe resolves (publish from another connection)', async () => {
    const [sub, pub] = [await openNatsTransport({ servers: server.url }), await openTransport({ kind: 'nats', servers: server.url })];
    try {
      expect(pub.kind).toBe('nats');
      for (let i = 0; i < 20; i++) {
        const l = await listen(sub, `other.${i}`);
        await pub.publish(`other.${i}`, Uint8Array.of(i));
        await waitFor(() => l.msgs.length === 1, 5_000, `message ${i}`);
      }
    } finally {
      await Promise.all([sub.close(), pub.close()]);
    }
  });

  test('a refused connection rejects with MiddlewareUnavailableError, quickly', async () => {
    const port = await getFreePort();
    const started = Date.now();
    const err = await openNatsTransport({ servers: `nats://127.0.0.1:${port}` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MiddlewareUnavailableError);
    expect(String(err)).toMatch(new RegExp(`nats: cannot connect to nats://127.0.0.1:${port}`));
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  describe('with user/password auth', () => {
    const pass = `p-${Math.random().toString(36).slice(2)}`;
    let authed: NatsServer;
    beforeAll(async () => {
      authed = await startNats({ args: ['--user', 'ssmd', '--pass', pass] });
    });
    afterAll(async () => {
      await authed?.stop();
    });

    test('the right password connects; a wrong or missing one is refused with the reason', async () => {
      const ok = await openNatsTransport({ servers: authed.url, user: 'ssmd', pass });
      await ok.close();
      for (const creds of [{ user: 'ssmd', pass: 'wrong' }, {}]) {
        const err = await openNatsTransport({ servers: authed.url, ...creds }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(MiddlewareUnavailableError);
        expect(String(err)).toMatch(/authorization/i);
      }
    });
  });
});
