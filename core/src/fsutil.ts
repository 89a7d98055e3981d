import fsp from 'node:fs/promises';

/** fsync a directory so a rename or a new file in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Whether a process with this pid exists (EPERM means it does, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take an exclusive lock file holding our pid. A lock left by a process that is gone is taken
 * over; one held by a live process makes `held(pid)` the error thrown. Returns the lock's path.
 */
export async function acquirePidLock(file: string, held: (pid: number) => Error): Promise<string> {
  for (;;) {
    try {
      await fsp.writeFile(file, String(process.pid), { flag: 'wx' });
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number.parseInt(await fsp.readFile(file, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) throw held(pid);
    await fsp.rm(file, { force: true });
  }
}
