/**
 * A throwaway Temporal dev server (`temporal server start-dev`, SQLite in its temp dir, no UI).
 * The dev server picks its own free ports for the internal services, HTTP API and metrics.
 */
import path from 'node:path';
import { resolveBinary } from './binaries.js';
import { getFreePorts, LOOPBACK } from './ports.js';
import { makeTempDir, retryOnPortClash, spawnServer } from './process.js';

export interface TemporalServer {
  /** gRPC frontend, 127.0.0.1:<port> */
  address: string;
  port: number;
  namespace: 'default';
  dir: string;
  stop(): Promise<void>;
}

export interface StartTemporalOptions {
  /** Readiness timeout (default 90 s). */
  timeoutMs?: number;
  /** Extra namespaces to create at launch (`--namespace`). */
  namespaces?: string[];
  /** Extra `temporal server start-dev` arguments. */
  args?: string[];
}

export async function startTemporal(opts: StartTemporalOptions = {}): Promise<TemporalServer> {
  const bin = resolveBinary('temporal');
  const { Connection } = await import('@temporalio/client');

  return retryOnPortClash(async () => {
    const [port, uiPort] = (await getFreePorts(2)) as [number, number];
    const dir = await makeTempDir();
    const address = `${LOOPBACK}:${port}`;
    const proc = await spawnServer({
      name: 'temporal dev server',
      command: bin,
      dir,
      args: [
        'server', 'start-dev',
        '--ip', LOOPBACK,
        '--port', String(port),
        '--ui-port', String(uiPort),
        '--headless',
        '--db-filename', path.join(dir, 'temporal.db'),
        '--log-level', 'warn',
        ...(opts.namespaces ?? []).flatMap((ns) => ['--namespace', ns]),
        ...(opts.args ?? []),
      ],
      graceMs: 10_000,
    });
    try {
      await proc.waitReady(
        async () => {
          // lazy + close in finally, so failed attempts do not leak gRPC channels
          const conn = Connection.lazy({ address, connectTimeout: 2_000 });
          try {
            await conn.ensureConnected();
            await conn.workflowService.getSystemInfo({});
            await conn.workflowService.describeNamespace({ namespace: 'default' });
            return true;
          } finally {
            await conn.close();
          }
        },
        { timeoutMs: opts.timeoutMs ?? 90_000, intervalMs: 250, description: `gRPC frontend at ${address}` },
      );
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return { address, port, namespace: 'default', dir, stop: () => proc.stop() };
  });
}
