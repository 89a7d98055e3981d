import mqtt from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type MosquittoServer } from '../harness/mosquitto.js';

function connectV5(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

async function roundTrip(client: MqttClient, topic: string, payload: string): Promise<{ topic: string; payload: string; qos: number }> {
  const granted = await client.subscribeAsync(topic, { qos: 1 });
  expect(granted[0]?.qos).toBe(1);
  const received = new Promise<{ topic: string; payload: string; qos: number }>((resolve) => {
    client.once('message', (t, p, packet) => resolve({ topic: t, payload: p.toString('utf8'), qos: packet.qos }));
  });
  // for QoS 1, publishAsync settles only once the broker's PUBACK arrives; it resolves with
  // the packet that was sent
  const sent = await client.publishAsync(topic, payload, { qos: 1 });
  expect(sent?.cmd).toBe('publish');
  expect(sent && 'qos' in sent ? sent.qos : undefined).toBe(1);
  expect(typeof sent?.messageId).toBe('number');
  return received;
}

describe('mosquitto smoke (anonymous)', () => {
  let broker: MosquittoServer;
  let client: MqttClient;

  beforeAll(async () => {
    broker = await startMosquitto();
    client = await connectV5(broker.url, { clientId: 'ssmd-smoke-anon' });
  }, 60_000);

  afterAll(async () => {
    await client?.endAsync().catch(() => {});
    await broker?.stop();
  });

  it('runs its own broker and does a v5 QoS1 round trip', async () => {
    expect(broker.port).not.toBe(1883);
    const msg = await roundTrip(client, 'ssmd/smoke/anon', 'hello-anon');
    expect(msg).toEqual({ topic: 'ssmd/smoke/anon', payload: 'hello-anon', qos: 1 });
  });
});

describe('mosquitto smoke (with users)', () => {
  let broker: MosquittoServer;

  beforeAll(async () => {
    broker = await startMosquitto({ users: { alice: 's3cret-alice', bob: 'bob-pw' } });
  }, 60_000);

  afterAll(async () => {
    await broker?.stop();
  });

  it('refuses anonymous clients', async () => {
    await expect(connectV5(broker.url)).rejects.toThrow(/not authori[sz]ed|bad user|refused/i);
  });

  it('refuses a wrong password', async () => {
    await expect(connectV5(broker.url, { username: 'alice', password: 'wrong' })).rejects.toThrow(
      /not authori[sz]ed|bad user|refused/i,
    );
  });

  it('accepts the configured users and round-trips QoS1', async () => {
    const alice = await connectV5(broker.url, { username: 'alice', password: 's3cret-alice' });
    const bob = await connectV5(broker.url, { username: 'bob', password: 'bob-pw' });
    try {
      const msg = await roundTrip(alice, 'ssmd/smoke/auth', 'hello-alice');
      expect(msg).toEqual({ topic: 'ssmd/smoke/auth', payload: 'hello-alice', qos: 1 });
      expect(bob.connected).toBe(true);
    } finally {
      await alice.endAsync();
      await bob.endAsync();
    }
  });
});
