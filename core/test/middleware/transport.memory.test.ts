import { describe, expect, test, vi } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { openTransport, type TransportConfig } from '../../src/middleware/transport/index.js';
import { MemoryTransport } from '../../src/middleware/transport/memory.js';
import { describeTransportContract, waitFor } from '../../../test/contracts/transport.contract.js';

const loaded = vi.hoisted(() => ({ mqtt: false, nats: false }));
vi.mock('mqtt', () => {
  loaded.mqtt = true;
  return {};
});
vi.mock('@nats-io/transport-node', () => {
  loaded.nats = true;
  return {};
});

describeTransportContract('memory', async () => {
  const transport = new MemoryTransport();
  return { transport, cleanup: () => transport.close() };
});

describe('MemoryTransport', () => {
  test('handlers run after publish returns, and a throwing handler is counted, not rethrown', async () => {
    const t = new MemoryTransport();
    const got: string[] = [];
    await t.subscribe('a.b', () => {
      throw new Error('bug');
    });
    await t.subscribe('a.b', (m) => got.push(Buffer.from(m.data).toString()));
    const published = t.publish('a.b', new TextEncoder().encode('x'));
    expect(got).toEqual([]);
    await published;
    await waitFor(() => got.length === 1 && t.handlerErrors === 1);
    await t.close();
  });

  test('a subscription removed before its queued delivery runs receives nothing', async () => {
    const t = new MemoryTransport();
    const got: unknown[] = [];
    const sub = await t.subscribe('a.*', (m) => got.push(m));
    const fence: unknown[] = [];
    await t.subscribe('a.*', (m) => fence.push(m));
    void t.publish('a.b', new Uint8Array(1));
    await sub.unsubscribe();
    await waitFor(() => fence.length === 1);
    expect(got).toEqual([]);
  });
});

describe('openTransport', () => {
  test('memory is opened without loading mqtt or nats', async () => {
    const t = await openTransport({ kind: 'memory' });
    expect(t.kind).toBe('memory');
    expect(t).toBeInstanceOf(MemoryTransport);
    expect(loaded).toEqual({ mqtt: false, nats: false });
    await t.close();
  });

  test('an unknown kind is a ConfigError naming the field', async () => {
    const bad = { kind: 'kafka' } as unknown as TransportConfig;
    await expect(openTransport(bad)).rejects.toBeInstanceOf(ConfigError);
    await expect(openTransport(bad)).rejects.toThrow(/kind: expected 'memory', 'nats' or 'mqtt', got "kafka"/);
  });
});
