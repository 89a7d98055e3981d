import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { MiddlewareUnavailableError } from '../../src/middleware/errors.js';
import { openTransport } from '../../src/middleware/transport/index.js';
import { openMqttTransport, type MqttTransportOptions } from '../../src/middleware/transport/mqtt.js';
import { describeTransportContract, listen, waitFor } from '../../../test/contracts/transport.contract.js';
import { getFreePort, startMosquitto, type MosquittoServer } from '../../../test/harness/index.js';

// mosquitto 2.0 with only password_file/acl_file grants every SUBSCRIBE (ACLs apply per delivered message);
// the dynamic security plugin checks subscriptions, so it is the way to provoke a SUBACK failure.
const DYNSEC = ['x86_64-linux-gnu', 'aarch64-linux-gnu', '', '../local/lib']
  .map((d) => path.join('/usr/lib', d, 'mosquitto_dynamic_security.so'))
  .find((f) => existsSync(f));
const password = randomBytes(12).toString('hex');
let broker: MosquittoServer;
const creds = (): MqttTransportOptions => ({ url: broker.url, username: 'ssmd', password });

beforeAll(async () => {
  broker = await startMosquitto({ users: { ssmd: password } });
});
afterAll(async () => {
  await broker?.stop();
});

describeTransportContract('mqtt', async () => {
  const transport = await openMqttTransport(creds());
  return { transport, cleanup: () => transport.close() };
});

describeTransportContract('mqtt qos 1', async () => {
  const transport = await openTransport({ kind: 'mqtt', ...creds(), qos: 1 });
  return { transport, cleanup: () => transport.close() };
});

async function refusal(opts: MqttTransportOptions): Promise<unknown> {
  return openMqttTransport({ timeoutMs: 5_000, ...opts }).then(
    async (t) => (await t.close(), new Error('connected')),
    (e: unknown) => e,
  );
}

describe('MqttTransport', () => {
  test('wrong password and anonymous clients are refused with MiddlewareUnavailableError', async () => {
    for (const opts of [{ ...creds(), password: 'wrong' }, { url: broker.url }]) {
      const err = await refusal(opts);
      expect(err).toBeInstanceOf(MiddlewareUnavailableError);
      expect(String(err)).toMatch(/mqtt: cannot connect to .*: Connection refused: (Bad username or Password|Not authorized)/i);
    }
  });

  test('a closed port rejects quickly with the reason', async () => {
    const err = await refusal({ url: `mqtt://127.0.0.1:${await getFreePort()}` });
    expect(err).toBeInstanceOf(MiddlewareUnavailableError);
    expect(String(err)).toMatch(/ECONNREFUSED/);
  });

  describe('with subscribe ACLs (dynamic security plugin)', () => {
    let dynsec: MosquittoServer;
    let dir: string;
    beforeAll(async () => {
      // Ships with Debian's mosquitto package, which scripts/setup.sh installs: missing is a failure, not a skip.
      if (DYNSEC === undefined) throw new Error('mosquitto_dynamic_security.so not found: install mosquitto (npm run setup)');
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ssmd-dynsec-'));
      const salt = randomBytes(12);
      const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512').toString('base64');
      const config = {
        defaultACLAccess: { publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true },
        clients: [{ username: 'ssmd', password: hash, salt: salt.toString('base64'), iterations: 101, roles: [{ rolename: 'reader' }] }],
        groups: [],
        roles: [{ rolename: 'reader', acls: [{ acltype: 'subscribePattern', topic: 'ssmd/ok/#', allow: true }, { acltype: 'publishClientSend', topic: 'ssmd/#', allow: true }] }],
      };
      await fs.writeFile(path.join(dir, 'dynsec.json'), JSON.stringify(config));
      dynsec = await startMosquitto({ users: { ssmd: password }, extraConfig: [`plugin ${DYNSEC}`, `plugin_opt_config_file ${path.join(dir, 'dynsec.json')}`] });
    });
    afterAll(async () => {
      await dynsec?.stop();
      await fs.rm(dir, { recursive: true, force: true });
    });

    test('a refused subscription (SUBACK failure) rejects with the reason; the transport still works', async () => {
      const t = await openMqttTransport({ url: dynsec.url, username: 'ssmd', password });
      try {
        for (let i = 0; i < 2; i++) {
          await expect(t.subscribe('nope.>', () => {})).rejects.toThrow(/mqtt: subscribe ssmd\/nope\/# \(pattern nope\.>\) failed: Subscribe error: Not authorized/);
        }
        const l = await listen(t, 'ok.*');
        await t.publish('ok.after', Uint8Array.of(1));
        await waitFor(() => l.msgs.length === 1);
      } finally {
        await t.close();
      }
    });
  });

  test('retained values reach a late subscriber on another connection', async () => {
    const pub = await openMqttTransport(creds());
    await pub.publish('late.snapshot.btc', Uint8Array.of(42), { retain: true });
    await pub.close();
    const sub = await openMqttTransport(creds());
    const l = await listen(sub, 'late.snapshot.*');
    await waitFor(() => l.msgs.length === 1);
    expect([l.msgs[0]?.subject, [...(l.msgs[0]?.data ?? [])]]).toEqual(['late.snapshot.btc', [42]]);
    await sub.close();
  });

  test('after a dropped connection: offline publishes reject, then the client reconnects and resubscribes', async () => {
    const sockets = new Set<net.Socket>();
    let accepting = true;
    const proxy = net.createServer((client) => {
      if (!accepting) return void client.destroy();
      const upstream = net.connect(broker.port, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {}).on('close', () => (client.destroy(), upstream.destroy()));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as net.AddressInfo;
    const [flaky, direct] = [await openMqttTransport({ ...creds(), url: `mqtt://127.0.0.1:${port}` }), await openMqttTransport(creds())];
    try {
      const l = await listen(flaky, 'reconnect.*');
      await direct.publish('reconnect.before', Uint8Array.of(1));
      await waitFor(() => l.msgs.length === 1);
      accepting = false;
      for (const s of sockets) s.destroy();
      await vi.waitFor(() => expect(flaky.publish('reconnect.offline', Uint8Array.of(0))).rejects.toBeInstanceOf(MiddlewareUnavailableError), {
        timeout: 5_000,
        interval: 20,
      });
      accepting = true;
      await vi.waitFor(
        async () => {
          await direct.publish('reconnect.after', Uint8Array.of(2));
          expect(l.subjects()).toContain('reconnect.after');
        },
        { timeout: 15_000, interval: 200 },
      );
      expect(l.subjects()).not.toContain('reconnect.offline');
    } finally {
      await Promise.all([flaky.close(), direct.close()]);
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
