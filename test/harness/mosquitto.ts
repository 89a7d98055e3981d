/**
 * A throwaway mosquitto broker with a generated config in its temp dir.
 *
 * With `users`, anonymous access is refused and a password file is generated with
 * `mosquitto_passwd -b [-c]`; without users the broker allows anonymous clients.
 *
 * Running as root: mosquitto 2.x then drops privileges to user `mosquitto` right after
 * reading its config, and can no longer read the password file in our 0700 temp dir
 * ("Error: Unable to open pwfile"). We therefore write `user root` into the config when we
 * are root, which keeps it as root (it only logs a warning). As a non-root user the `user`
 * option is ignored by mosquitto, so we omit it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { resolveBinary } from './binaries.js';
import { canConnect, getFreePort, LOOPBACK } from './ports.js';
import { makeTempDir, retryOnPortClash, spawnServer } from './process.js';

export interface MosquittoServer {
  /** mqtt://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The users accepted by the broker (empty when anonymous access is allowed). */
  users: Record<string, string>;
  dir: string;
  stop(): Promise<void>;
}

export interface StartMosquittoOptions {
  /** username -> password; when non-empty, anonymous clients are refused. */
  users?: Record<string, string>;
  /** Extra config lines appended to the generated mosquitto.conf. */
  extraConfig?: string[];
  timeoutMs?: number;
}

function currentUserName(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

export async function startMosquitto(opts: StartMosquittoOptions = {}): Promise<MosquittoServer> {
  const bin = resolveBinary('mosquitto');
  const users = { ...(opts.users ?? {}) };
  const names = Object.keys(users);
  const passwdBin = names.length > 0 ? resolveBinary('mosquitto_passwd') : undefined;

  return retryOnPortClash(async () => {
    const port = await getFreePort();
    const dir = await makeTempDir();
    const conf = [
      `listener ${port} ${LOOPBACK}`,
      'persistence false',
      'log_dest stdout',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'connection_messages true',
    ];
    if (process.getuid?.() === 0) conf.push(`user ${currentUserName() ?? 'root'}`);

    try {
      if (passwdBin !== undefined) {
        const pwFile = path.join(dir, 'passwd');
        names.forEach((name, i) => {
          const args = i === 0 ? ['-b', '-c', pwFile, name, users[name] ?? ''] : ['-b', pwFile, name, users[name] ?? ''];
          execFileSync(passwdBin, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
        });
        await fs.chmod(pwFile, 0o600);
        conf.push('allow_anonymous false', `password_file ${pwFile}`);
      } else {
        conf.push('allow_anonymous true');
      }
      conf.push(...(opts.extraConfig ?? []));
      await fs.writeFile(path.join(dir, 'mosquitto.conf'), conf.join('\n') + '\n');
    } catch (err) {
      await fs.rm(dir, { recursive: true, force: true });
      throw err;
    }

    const proc = await spawnServer({
      name: 'mosquitto',
      command: bin,
      args: ['-c', path.join(dir, 'mosquitto.conf')],
      dir,
      graceMs: 5_000,
    });
    try {
      await proc.waitReady(() => canConnect(port), {
        timeoutMs: opts.timeoutMs ?? 20_000,
        description: `listener on ${LOOPBACK}:${port}`,
      });
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return { url: `mqtt://${LOOPBACK}:${port}`, port, users, dir, stop: () => proc.stop() };
  });
}
