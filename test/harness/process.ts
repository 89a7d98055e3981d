/**
 * Spawning and supervising throwaway server processes for tests.
 *
 * Every server gets its own temp dir (`<tmpdir>/ssmd-XXXXXX`) that is its cwd, holds its
 * data/config, and its combined stdout+stderr log (`server.log`). `stop()` sends SIGTERM,
 * escalates to SIGKILL after a grace period, then removes the temp dir. It is idempotent.
 *
 * Leak protection, in three layers:
 *   1. a `process.on('exit')` handler SIGKILLs every still-running child (and removes its dir);
 *   2. SIGINT/SIGTERM/SIGHUP handlers do the same before the default action;
 *   3. a tiny detached `sh` watchdog per server SIGKILLs it if this Node process disappears
 *      without running handlers (e.g. the vitest worker is SIGKILLed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Delay between checks (default 100 ms). */
  intervalMs?: number;
  /** What we are waiting for, used in the timeout message. */
  description?: string;
  /** Called before every check; a non-null string aborts the wait with that reason. */
  failFast?: () => string | null;
}

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves true if `p` settles within `ms`, false otherwise; never leaves a timer behind. */
function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    p.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

function errText(err: unknown): string {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; errors?: unknown };
    // AggregateError (e.g. fetch/connect to several addresses) has an empty message
    if (!e.message && Array.isArray(e.errors)) return e.errors.map(errText).join('; ');
    return `${e.name}: ${e.message}${e.code !== undefined ? ` (${String(e.code)})` : ''}`;
  }
  return String(err);
}

/**
 * Poll `check` until it returns true (exceptions count as "not yet").
 * Throws WaitTimeoutError with the last check error after `timeoutMs`.
 */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  opts: WaitOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 100;
  const what = opts.description ?? 'condition';
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let attempts = 0;
  for (;;) {
    const reason = opts.failFast?.() ?? null;
    if (reason !== null) throw new Error(`gave up waiting for ${what}: ${reason}`);
    attempts++;
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const last = lastError === undefined ? '' : `; last error: ${errText(lastError)}`;
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms (${attempts} checks) waiting for ${what}${last}`);
    }
    await delay(Math.min(intervalMs, left));
  }
}

/** A fresh private temp dir, `<tmpdir>/ssmd-XXXXXX`. */
export function makeTempDir(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'ssmd-'));
}

/** Last `n` lines of a text file ('' if it does not exist). */
export function tailFile(file: string, n = 40): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(-n).join('\n');
}

// ------------------------------------------------------------------ leak protection

const live = new Set<ServerProcess>();
const exitCleanups = new Set<() => void>();
let handlersInstalled = false;

function killAllSync(): void {
  for (const p of live) p.killSync();
  for (const fn of exitCleanups) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
  exitCleanups.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllSync();
      // `once` already removed us; if nobody else handles the signal, re-raise it so the
      // default action (terminate) still happens.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.once(sig, onSignal);
  }
}

/**
 * Register a synchronous cleanup to run if the process exits (or is signalled) while it is
 * still registered. Returns an unregister function. Used for resources that are not child
 * processes, e.g. throwaway Postgres databases.
 */
export function registerExitCleanup(fn: () => void): () => void {
  installHandlers();
  exitCleanups.add(fn);
  return () => {
    exitCleanups.delete(fn);
  };
}

/** Detached watchdog: SIGKILLs `childPid` (and removes `dir`) once our process is gone. */
function startWatchdog(childPid: number, dir: string): ChildProcess | undefined {
  const script =
    'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 1; done; ' +
    'kill -9 "$2" 2>/dev/null; rm -rf "$3"';
  try {
    const wd = spawn('/bin/sh', ['-c', script, 'ssmd-watchdog', String(process.pid), String(childPid), dir], {
      detached: true,
      stdio: 'ignore',
    });
    wd.on('error', () => {});
    wd.unref();
    return wd;
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ ServerProcess

export interface SpawnOptions {
  /** Human readable name, used in errors. */
  name: string;
  /** Absolute path of the executable. */
  command: string;
  args: string[];
  /** Existing temp dir (from makeTempDir) to use as cwd; created when absent. Removed on stop. */
  dir?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** First signal sent by stop() (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
  /** How long stop() waits after stopSignal before SIGKILL (default 10 s). */
  graceMs?: number;
  /** Extra cleanup after the process is gone (e.g. sockets the server leaves outside its dir). */
  cleanup?: () => void;
}

export class ServerProcess {
  readonly name: string;
  readonly dir: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  readonly pid: number;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exitPromise: Promise<void>;
  private stopPromise: Promise<void> | null = null;
  private watchdog: ChildProcess | undefined;
  private readonly opts: SpawnOptions;

  /** @internal use spawnServer() */
  constructor(opts: SpawnOptions, dir: string, logFile: string, child: ChildProcess, pid: number) {
    this.opts = opts;
    this.name = opts.name;
    this.dir = dir;
    this.logFile = logFile;
    this.child = child;
    this.pid = pid;
    this.exitPromise = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.exitInfo = { code: child.exitCode, signal: child.signalCode };
        resolve();
        return;
      }
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
    });
    this.watchdog = startWatchdog(pid, dir);
  }

  get exited(): boolean {
    return this.exitInfo !== null;
  }

  /** Description of how the process ended, or null while it runs. */
  get exitDescription(): string | null {
    if (!this.exitInfo) return null;
    return this.exitInfo.signal ? `killed by ${this.exitInfo.signal}` : `exited with code ${this.exitInfo.code}`;
  }

  /** Last `n` lines of the server log. */
  tail(n = 40): string {
    return tailFile(this.logFile, n);
  }

  /**
   * Wait until `check` succeeds. Fails fast if the process exits; on timeout throws an Error
   * whose message includes the last 40 lines of the server log.
   */
  async waitReady(check: () => boolean | Promise<boolean>, opts: WaitOptions = {}): Promise<void> {
    try {
      await waitUntil(check, {
        timeoutMs: 60_000,
        intervalMs: 100,
        ...opts,
        description: `${this.name} ${opts.description ?? 'readiness'}`,
        failFast: () => {
          const own = this.exitDescription ? `${this.name} ${this.exitDescription}` : null;
          return own ?? opts.failFast?.() ?? null;
        },
      });
    } catch (err) {
      throw new Error(
        `${errText(err).replace(/^\w*Error: /, '')}\n` +
          `--- ${this.name} command: ${this.opts.command} ${this.opts.args.join(' ')}\n` +
          `--- last 40 lines of ${this.logFile}:\n${this.tail(40)}`,
        { cause: err },
      );
    }
  }

  /** SIGTERM (or stopSignal), SIGKILL after the grace period, remove the temp dir. Idempotent. */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    this.killWatchdog();
    if (!this.exited) {
      this.signal(this.opts.stopSignal ?? 'SIGTERM');
      const graceMs = this.opts.graceMs ?? 10_000;
      const exitedInTime = await settlesWithin(this.exitPromise, graceMs);
      if (!exitedInTime && !this.exited) {
        this.signal('SIGKILL');
        await settlesWithin(this.exitPromise, 5_000);
      }
    }
    live.delete(this);
    await fsp.rm(this.dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
    try {
      this.opts.cleanup?.();
    } catch {
      // best effort
    }
  }

  /** Synchronous last-resort kill, used from exit/signal handlers. */
  killSync(): void {
    this.killWatchdog();
    if (!this.exited) this.signal('SIGKILL');
    live.delete(this);
    try {
      fs.rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
    try {
      this.opts.cleanup?.();
    } catch {
      // best effort
    }
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      process.kill(this.pid, sig);
    } catch {
      // already gone
    }
  }

  private killWatchdog(): void {
    const wd = this.watchdog;
    this.watchdog = undefined;
    if (wd?.pid !== undefined && wd.exitCode === null && wd.signalCode === null) {
      try {
        process.kill(wd.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Spawn a server with its cwd in a temp dir and stdout/stderr appended to `<dir>/server.log`.
 * Resolves once the OS has started the process (not once it is ready: use waitReady()).
 */
export async function spawnServer(opts: SpawnOptions): Promise<ServerProcess> {
  installHandlers();
  const dir = opts.dir ?? (await makeTempDir());
  const logFile = path.join(dir, 'server.log');
  const fd = fs.openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.command, opts.args, {
      cwd: dir,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    fs.closeSync(fd);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (err) {
    await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
    throw new Error(`could not start ${opts.name} (${opts.command}): ${errText(err)}`, { cause: err });
  }
  child.on('error', () => {}); // late errors (e.g. kill on a dead pid) must not crash the run
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${opts.name}: no pid`);
  const proc = new ServerProcess(opts, dir, logFile, child, pid);
  live.add(proc);
  return proc;
}

/** Does this error look like a port clash (so that retrying on new ports makes sense)? */
export function isAddressInUse(err: unknown): boolean {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e !== undefined && e !== null && !seen.has(e)) {
    seen.add(e);
    if (/address already in use|EADDRINUSE|bind: address|Unable to bind|port is already/i.test(errText(e))) {
      return true;
    }
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

/**
 * Run `attempt` (which picks fresh ports each time) up to `attempts` times while it fails
 * with a port clash: free-port selection races with other processes on a shared machine.
 */
export async function retryOnPortClash<T>(attempt: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= attempts || !isAddressInUse(err)) throw err;
    }
  }
}
