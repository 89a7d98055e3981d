import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTemporal, type TemporalServer } from '../harness/temporal.js';

describe('temporal smoke', () => {
  let server: TemporalServer;
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    server = await startTemporal();
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
  }, 120_000);

  afterAll(async () => {
    await connection?.close().catch(() => {});
    await server?.stop();
  });

  it('runs its own dev server', () => {
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.port).not.toBe(7233);
  });

  it('answers getSystemInfo', async () => {
    const info = await client.workflowService.getSystemInfo({});
    expect(info.serverVersion).toMatch(/^\d+\.\d+/);
    expect(info.capabilities).toBeTruthy();
  });

  it('describes the default namespace', async () => {
    const ns = await client.workflowService.describeNamespace({ namespace: 'default' });
    expect(ns.namespaceInfo?.name).toBe('default');
    expect(ns.namespaceInfo?.id).toBeTruthy();
  });

  it('rejects an unknown namespace', async () => {
    await expect(
      client.workflowService.describeNamespace({ namespace: `missing-${Date.now()}` }),
    ).rejects.toThrow(/not found/i);
  });
});
