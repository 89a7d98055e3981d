import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

function listenOn(port: number, host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port, host, exclusive: true }, () => {
      srv.off('error', reject);
      resolve(srv);
    });
  });
}

function close(srv: net.Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}

function portOf(srv: net.Server): number {
  const addr = srv.address();
  if (addr === null || typeof addr === 'string') throw new Error('unexpected server address');
  return addr.port;
}

/**
 * A free loopback TCP port: listen on 127.0.0.1:0, read the port the kernel chose, close.
 * There is an inherent race (someone else may take the port before the server binds it);
 * the server start functions retry on "address already in use".
 */
export async function getFreePort(host: string = LOOPBACK): Promise<number> {
  const srv = await listenOn(0, host);
  const port = portOf(srv);
  await close(srv);
  return port;
}

/** `count` distinct free ports (all held open at once, so they cannot repeat). */
export async function getFreePorts(count: number, host: string = LOOPBACK): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOn(0, host));
    return servers.map(portOf);
  } finally {
    await Promise.all(servers.map(close));
  }
}

/** True when `port` can be bound on `host` right now. */
export async function isPortFree(port: number, host: string = LOOPBACK): Promise<boolean> {
  try {
    await close(await listenOn(port, host));
    return true;
  } catch {
    return false;
  }
}

/** True when something accepts TCP connections on host:port. */
export function canConnect(port: number, host: string = LOOPBACK, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok: boolean): void => {
      sock.removeAllListeners();
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
