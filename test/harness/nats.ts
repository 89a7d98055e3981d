/** A throwaway nats-server (>= 2.10) with JetStream, storage in its temp dir. */
import path from 'node:path';
import { resolveBinary } from './binaries.js';
import { getFreePorts, LOOPBACK } from './ports.js';
import { makeTempDir, retryOnPortClash, spawnServer, type ServerProcess } from './process.js';

export interface NatsServer {
  /** nats://127.0.0.1:<port> */
  url: string;
  port: number;
  /** HTTP monitoring port (/varz, /jsz, /healthz). */
  monitorPort: number;
  dir: string;
  /** JetStream store directory (`-sd`). */
  storeDir: string;
  stop(): Promise<void>;
  /** Send `signal` (default SIGKILL) and wait for the process to exit; the store dir stays. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start the server again on the same ports and store dir (after `kill`); resolves when JetStream is healthy. */
  restart(): Promise<void>;
}

export interface StartNatsOptions {
  /** Extra nats-server command-line arguments. */
  args?: string[];
  /** Readiness timeout (default 30 s). */
  timeoutMs?: number;
  /** Client port (default: a free one). */
  port?: number;
  /** JetStream store directory (default `<dir>/js`, removed by stop()). */
  storeDir?: string;
}

export async function startNats(opts: StartNatsOptions = {}): Promise<NatsServer> {
  const bin = resolveBinary('nats-server');
  return retryOnPortClash(async () => {
    const [freePort, monitorPort] = (await getFreePorts(2)) as [number, number];
    const port = opts.port ?? freePort;
    const dir = await makeTempDir();
    const storeDir = opts.storeDir ?? path.join(dir, 'js');
    const spawn = () => spawnNats(bin, { port, monitorPort, dir, storeDir, args: opts.args ?? [], timeoutMs: opts.timeoutMs ?? 30_000 });
    let proc = await spawn();
    return {
      url: `nats://${LOOPBACK}:${port}`,
      port,
      monitorPort,
      dir,
      storeDir,
      stop: () => proc.stop(),
      async kill(signal: NodeJS.Signals = 'SIGKILL') {
        if (proc.exited) return;
        const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
        process.kill(proc.pid, signal);
        await exited;
      },
      async restart() {
        if (!proc.exited) throw new Error('nats-server is still running; kill() it before restart()');
        // The dead process is not stopped (that would delete the shared dir); the new one owns it.
        proc = await spawn();
      },
    };
  });
}

interface SpawnNatsOptions {
  port: number;
  monitorPort: number;
  dir: string;
  storeDir: string;
  args: string[];
  timeoutMs: number;
}

async function spawnNats(bin: string, o: SpawnNatsOptions): Promise<ServerProcess> {
  const proc = await spawnServer({
    name: 'nats-server',
    command: bin,
    args: [
      '-a', LOOPBACK,
      '-p', String(o.port),
      '-m', String(o.monitorPort),
      '-n', `ssmd-test-${o.port}`,
      '-js',
      '-sd', o.storeDir,
      ...o.args,
    ],
    dir: o.dir,
    graceMs: 5_000,
  });
  try {
    await proc.waitReady(
      async () => {
        const res = await fetch(`http://${LOOPBACK}:${o.monitorPort}/healthz?js-enabled-only=true`);
        await res.body?.cancel();
        return res.ok;
      },
      { timeoutMs: o.timeoutMs, description: 'JetStream health (/healthz?js-enabled-only=true)' },
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}
