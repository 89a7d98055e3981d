/** A throwaway redis-server: no persistence, data dir = its temp dir. */
import net from 'node:net';
import { resolveBinary } from './binaries.js';
import { getFreePort, LOOPBACK } from './ports.js';
import { makeTempDir, retryOnPortClash, spawnServer } from './process.js';

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** Send PING with the inline protocol and expect +PONG. */
function ping(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: LOOPBACK });
    let buf = '';
    const done = (ok: boolean): void => {
      sock.removeAllListeners();
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

export async function startRedis(opts: { timeoutMs?: number; args?: string[] } = {}): Promise<RedisServer> {
  const bin = resolveBinary('redis-server');
  return retryOnPortClash(async () => {
    const port = await getFreePort();
    const dir = await makeTempDir();
    const proc = await spawnServer({
      name: 'redis-server',
      command: bin,
      dir,
      args: [
        '--port', String(port),
        '--bind', LOOPBACK,
        '--save', '',
        '--appendonly', 'no',
        '--dir', dir,
        '--daemonize', 'no',
        ...(opts.args ?? []),
      ],
      graceMs: 5_000,
    });
    try {
      await proc.waitReady(() => ping(port), { timeoutMs: opts.timeoutMs ?? 20_000, description: 'PING' });
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return { url: `redis://${LOOPBACK}:${port}`, port, dir: proc.dir, stop: () => proc.stop() };
  });
}
