/** A throwaway nats-server (>= 2.10) with JetStream, storage in its temp dir. */
import path from 'node:path';
import { resolveBinary } from './binaries.js';
import { getFreePorts, LOOPBACK } from './ports.js';
import { makeTempDir, retryOnPortClash, spawnServer } from './process.js';

export interface NatsServer {
  /** nats://127.0.0.1:<port> */
  url: string;
  port: number;
  /** HTTP monitoring port (/varz, /jsz, /healthz). */
  monitorPort: number;
  dir: string;
  stop(): Promise<void>;
}

export interface StartNatsOptions {
  /** Extra nats-server command-line arguments. */
  args?: string[];
  /** Readiness timeout (default 30 s). */
  timeoutMs?: number;
}

export async function startNats(opts: StartNatsOptions = {}): Promise<NatsServer> {
  const bin = resolveBinary('nats-server');
  return retryOnPortClash(async () => {
    const [port, monitorPort] = (await getFreePorts(2)) as [number, number];
    const dir = await makeTempDir();
    const proc = await spawnServer({
      name: 'nats-server',
      command: bin,
      args: [
        '-a', LOOPBACK,
        '-p', String(port),
        '-m', String(monitorPort),
        '-n', `ssmd-test-${port}`,
        '-js',
        '-sd', path.join(dir, 'js'),
        ...(opts.args ?? []),
      ],
      dir,
      graceMs: 5_000,
    });
    try {
      await proc.waitReady(
        async () => {
          const res = await fetch(`http://${LOOPBACK}:${monitorPort}/healthz?js-enabled-only=true`);
          await res.body?.cancel();
          return res.ok;
        },
        { timeoutMs: opts.timeoutMs ?? 30_000, description: 'JetStream health (/healthz?js-enabled-only=true)' },
      );
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return {
      url: `nats://${LOOPBACK}:${port}`,
      port,
      monitorPort,
      dir,
      stop: () => proc.stop(),
    };
  });
}
