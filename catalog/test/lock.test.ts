import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog } from '../src/db/connect.js';

describe('the embedded catalog is locked to one process', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssmd-lock-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses a directory another live process holds, naming it', async () => {
    const target = join(dir, 'a');
    const other = spawn('sleep', ['30']);
    try {
      await writeFile(`${target}.lock`, String(other.pid));
      const err = await openCatalog(`pglite:${target}`).catch((e: unknown) => e);
      expect(String(err)).toMatch(new RegExp(`in use by process ${other.pid}; stop it first, or use a Postgres catalog`));
      expect(await readFile(`${target}.lock`, 'utf8')).toBe(String(other.pid));
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over a lock left by a process that is gone, and releases it on close', async () => {
    const target = join(dir, 'b');
    const gone = spawnSync('true').pid;
    await writeFile(`${target}.lock`, String(gone));
    const catalog = await openCatalog(`pglite:${target}`);
    expect(await readFile(`${target}.lock`, 'utf8')).toBe(String(process.pid));
    await catalog.close();
    await expect(readFile(`${target}.lock`, 'utf8')).rejects.toThrow(/ENOENT/);
    const again = await openCatalog(`pglite:${target}`);
    await again.close();
  });
});
