/** Self-tests of the harness plumbing (no real servers; fast). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { envVarFor, parseVersion, resolveBinary } from './binaries.js';
import { getFreePort, getFreePorts, isPortFree } from './ports.js';
import { isAddressInUse, retryOnPortClash, spawnServer, waitUntil, type ServerProcess } from './process.js';

/** A fake "server": a node process running `script`. */
function fakeServer(script: string, extra: { graceMs?: number } = {}): Promise<ServerProcess> {
  return spawnServer({ name: 'fake', command: process.execPath, args: ['-e', script], ...extra });
}

const started: ServerProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

describe('ports', () => {
  it('hands out free, distinct loopback ports', async () => {
    const port = await getFreePort();
    expect(port).toBeGreaterThan(1024);
    expect(await isPortFree(port)).toBe(true);
    const many = await getFreePorts(8);
    expect(new Set(many).size).toBe(8);
  });
});

describe('waitUntil', () => {
  it('resolves once the check passes', async () => {
    let n = 0;
    await waitUntil(() => ++n >= 3, { intervalMs: 5, timeoutMs: 2_000 });
    expect(n).toBe(3);
  });

  it('times out with the last check error', async () => {
    await expect(
      waitUntil(
        () => {
          throw new Error('still down');
        },
        { timeoutMs: 150, intervalMs: 20, description: 'the thing' },
      ),
    ).rejects.toThrow(/timed out after 150 ms .*waiting for the thing; last error: Error: still down/);
  });
});

describe('spawnServer', () => {
  it('captures output in a temp dir, reports the last 40 log lines on timeout, stops idempotently', async () => {
    const proc = await fakeServer(
      "for (let i = 0; i < 50; i++) console.log('line-' + i); console.error('on-stderr'); setInterval(() => {}, 1000);",
    );
    started.push(proc);
    expect(path.dirname(proc.dir)).toBe(os.tmpdir());
    expect(path.basename(proc.dir)).toMatch(/^ssmd-/);
    await waitUntil(() => proc.tail(1) === 'on-stderr', { timeoutMs: 5_000, intervalMs: 20 });

    const err = await proc.waitReady(() => false, { timeoutMs: 200, intervalMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(/fake readiness/);
    expect(msg).toContain('line-49');
    expect(msg).toContain('line-11\n');
    expect(msg).not.toContain('line-10\n'); // only the last 40 lines (11..49 + stderr)
    expect(msg).toContain('on-stderr');

    await Promise.all([proc.stop(), proc.stop()]);
    await proc.stop();
    expect(proc.exited).toBe(true);
    expect(fs.existsSync(proc.dir)).toBe(false);
  });

  it('fails fast when the process exits before it is ready', async () => {
    const proc = await fakeServer("console.error('bad flag --nope'); process.exit(7);");
    started.push(proc);
    const t0 = Date.now();
    await expect(proc.waitReady(() => false, { timeoutMs: 20_000 })).rejects.toThrow(
      /fake exited with code 7[\s\S]*bad flag --nope/,
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const proc = await fakeServer("process.on('SIGTERM', () => console.log('ignoring TERM')); setInterval(() => {}, 1000); console.log('up');", {
      graceMs: 300,
    });
    started.push(proc);
    await proc.waitReady(() => proc.tail(1) === 'up', { timeoutMs: 5_000, intervalMs: 20 });
    await proc.stop();
    expect(proc.exitDescription).toBe('killed by SIGKILL');
  });
});

describe('binaries', () => {
  it('maps names to env overrides', () => {
    expect(envVarFor('nats-server')).toBe('SSMD_BIN_NATS_SERVER');
    expect(envVarFor('redis-server')).toBe('SSMD_BIN_REDIS_SERVER');
  });

  it('parses versions', () => {
    expect(parseVersion('nats-server: v2.15.1')).toEqual([2, 15, 1]);
    expect(parseVersion('nope')).toBeUndefined();
  });

  it('explains how to install a missing binary', () => {
    expect(() => resolveBinary('ssmd-no-such-server')).toThrow(/npm run setup/);
  });

  it('rejects a broken env override', () => {
    const key = envVarFor('ssmd-fake');
    process.env[key] = '/nonexistent/ssmd-fake';
    try {
      expect(() => resolveBinary('ssmd-fake')).toThrow(/SSMD_BIN_SSMD_FAKE=.* is not an executable/);
    } finally {
      delete process.env[key];
    }
  });

  it('resolves a current nats-server', () => {
    const bin = resolveBinary('nats-server');
    expect(fs.existsSync(bin)).toBe(true);
  });

  it.skipIf(!fs.existsSync('/usr/sbin/nats-server'))('refuses the old system nats-server (< 2.10)', () => {
    const before = process.env.SSMD_BIN_NATS_SERVER;
    process.env.SSMD_BIN_NATS_SERVER = '/usr/sbin/nats-server';
    try {
      expect(() => resolveBinary('nats-server')).toThrow(/need >= 2\.10/);
    } finally {
      if (before === undefined) delete process.env.SSMD_BIN_NATS_SERVER;
      else process.env.SSMD_BIN_NATS_SERVER = before;
    }
  });
});

describe('retryOnPortClash', () => {
  it('retries only on address-in-use errors', async () => {
    let calls = 0;
    const result = await retryOnPortClash(async () => {
      calls++;
      if (calls < 3) throw new Error('x', { cause: new Error('listen tcp 127.0.0.1:1: bind: address already in use') });
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(calls).toBe(3);

    let other = 0;
    await expect(
      retryOnPortClash(async () => {
        other++;
        throw new Error('config error');
      }),
    ).rejects.toThrow('config error');
    expect(other).toBe(1);
    expect(isAddressInUse(new Error('EADDRINUSE'))).toBe(true);
  });
});
