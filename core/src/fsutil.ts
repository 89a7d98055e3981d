import { createHash, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';

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

/**
 * Write `source` to `dest` atomically: a temp file beside it, fsync, `check` (which may throw to
 * abandon the write; the temp file is removed), rename, fsync of the directory.
 */
export async function writeFileAtomic(
  dest: string,
  source: Uint8Array | AsyncIterable<Uint8Array>,
  check?: (written: { sha256: string; size: number }) => void,
): Promise<{ sha256: string; size: number }> {
  const dir = path.dirname(dest);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(dest)}.tmp-${randomBytes(6).toString('hex')}`);
  const hash = createHash('sha256');
  let size = 0;
  const fh = await fsp.open(tmp, 'wx');
  try {
    try {
      for await (const chunk of source instanceof Uint8Array ? [source] : source) {
        hash.update(chunk);
        size += chunk.length;
        for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off)).bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    const written = { sha256: hash.digest('hex'), size };
    check?.(written);
    await fsp.rename(tmp, dest);
    await syncDir(dir);
    return written;
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
