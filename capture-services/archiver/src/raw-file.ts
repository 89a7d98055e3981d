/**
 * One raw file being written: archive lines go through a gzip stream into the file, and a commit
 * ends the current gzip member, writes it out and fsyncs. Concatenated gzip members are one valid
 * gzip file, so the file is valid gzip at every committed length, and recovery truncates it back to
 * its last committed length. Memory is bounded: a line buffer of at most BUFFER_BYTES and zlib's
 * own state; the file is never held in memory.
 */
import { constants as fsc } from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';
import { syncDir } from '../../../core/src/fsutil.js';
import { ArchiverStateError } from './errors.js';

const BUFFER_BYTES = 256 * 1024;

export class RawFile {
  readonly path: string;
  readonly #fh: FileHandle;
  /** Bytes written to the file so far (committed plus what the running member has emitted). */
  #pos: number;
  #committed: number;
  #gz: Gzip | undefined;
  #pump: Promise<void> | undefined;
  #failed: unknown;
  #lines: string[] = [];
  #lineBytes = 0;
  /** Bytes beyond the committed length that `open` cut off (written after the last commit before a crash). */
  readonly droppedBytes: number;

  private constructor(file: string, fh: FileHandle, committed: number, dropped: number) {
    this.path = file;
    this.#fh = fh;
    this.#pos = committed;
    this.#committed = committed;
    this.droppedBytes = dropped;
  }

  /**
   * Open `file` for appending after its first `committed` bytes: create it (and its directories,
   * durably) if missing, cut off anything beyond `committed` (written after the last commit), and
   * refuse a file shorter than `committed` (committed data was lost under us).
   */
  static async open(file: string, committed: number): Promise<RawFile> {
    await mkdirDurable(path.dirname(file));
    let created = false;
    let fh: FileHandle;
    try {
      fh = await fsp.open(file, fsc.O_RDWR);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      fh = await fsp.open(file, fsc.O_RDWR | fsc.O_CREAT);
      created = true;
    }
    let size: number;
    try {
      size = (await fh.stat()).size;
      if (size < committed) throw new ArchiverStateError(`${file} has ${size} bytes but ${committed} were committed: block storage lost data; restore the file or remove the archive checkpoint`);
      if (size > committed) {
        await fh.truncate(committed);
        await fh.datasync();
      }
      if (created) await syncDir(path.dirname(file));
    } catch (err) {
      await fh.close();
      throw err;
    }
    return new RawFile(file, fh, committed, size - committed);
  }

  /** Bytes durably committed. */
  get committedBytes(): number {
    return this.#committed;
  }

  /** Append one line (with its newline). Resolves quickly; waits only when the gzip stream pushes back. */
  async append(line: string, bytes: number): Promise<void> {
    this.#lines.push(line);
    this.#lineBytes += bytes;
    if (this.#lineBytes >= BUFFER_BYTES) await this.#flushLines();
  }

  /** End the current gzip member, write it and fsync; returns the committed length. A no-op when nothing was appended. */
  async commit(): Promise<number> {
    this.#check();
    await this.#flushLines();
    const gz = this.#gz;
    if (gz === undefined) return this.#committed;
    this.#gz = undefined;
    gz.end();
    await this.#pump;
    this.#pump = undefined;
    this.#check();
    await this.#fh.datasync();
    this.#committed = this.#pos;
    return this.#committed;
  }

  /** Close the handle (after `commit`; anything not committed is left for recovery to cut off). */
  async close(): Promise<void> {
    this.#gz?.destroy();
    await this.#pump?.catch(() => undefined);
    await this.#fh.close();
  }

  async #flushLines(): Promise<void> {
    if (this.#lines.length === 0) return;
    const chunk = this.#lines.join('');
    this.#lines = [];
    this.#lineBytes = 0;
    const gz = this.#gz ?? this.#startMember();
    if (!gz.write(chunk)) {
      // Wait for zlib to take more, or for the writer to fail (it destroys the stream: no drain then).
      await new Promise<void>((resolve) => {
        const done = (): void => {
          gz.off('drain', done);
          gz.off('close', done);
          resolve();
        };
        gz.once('drain', done);
        gz.once('close', done);
      });
    }
    this.#check();
  }

  #startMember(): Gzip {
    const gz = createGzip();
    this.#gz = gz;
    this.#pump = (async () => {
      try {
        for await (const chunk of gz as AsyncIterable<Buffer>) {
          for (let off = 0; off < chunk.length; ) {
            const { bytesWritten } = await this.#fh.write(chunk, off, chunk.length - off, this.#pos);
            off += bytesWritten;
            this.#pos += bytesWritten;
          }
        }
      } catch (err) {
        this.#failed ??= err;
        gz.destroy();
      }
    })();
    return gz;
  }

  #check(): void {
    if (this.#failed !== undefined) throw new ArchiverStateError(`writing ${this.path} failed: ${String(this.#failed)}`, { cause: this.#failed });
  }
}

/** mkdir -p, then fsync the parent of every directory it created so the new entries survive a crash. */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await fsp.mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const created: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    created.push(d);
    if (d === first || path.dirname(d) === d) break;
  }
  for (const d of created.reverse()) await syncDir(path.dirname(d));
}
