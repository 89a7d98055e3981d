/**
 * Locating server binaries for tests.
 *
 * Order: env override `SSMD_BIN_<NAME>` (name upper-cased, non-alphanumerics -> `_`, e.g.
 * SSMD_BIN_NATS_SERVER), then `<repo>/.ssmd/bin/<name>` (created by `npm run setup`), then PATH
 * (plus the sbin dirs, which are not always on PATH).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file lives in <repo>/test/harness/). */
export const REPO_ROOT: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const SSMD_BIN_DIR: string = path.join(REPO_ROOT, '.ssmd', 'bin');

const SETUP_HINT = 'run `npm run setup` (scripts/setup.sh) to install the test servers';

/** Minimum nats-server version: JetStream features the project relies on arrived in 2.10. */
export const MIN_NATS_VERSION: readonly [number, number] = [2, 10];

export function envVarFor(name: string): string {
  return `SSMD_BIN_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false; // follows symlinks; dangling links fail here
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function searchPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const extra of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!dirs.includes(extra)) dirs.push(extra);
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

const cache = new Map<string, string>();

/**
 * Absolute path of the binary `name`. Throws a clear error (mentioning `npm run setup`) when it
 * cannot be found, and for nats-server when the version is older than 2.10.
 */
export function resolveBinary(name: string): string {
  const envVar = envVarFor(name);
  const override = process.env[envVar];
  const cacheKey = `${name}\0${override ?? ''}`;
  const cached = cache.get(cacheKey);
  if (cached !== undefined) return cached;

  let found: string | undefined;
  if (override !== undefined && override !== '') {
    if (!isExecutableFile(override)) {
      throw new Error(`${envVar}=${override} is not an executable file; fix it or unset it`);
    }
    found = path.resolve(override);
  } else {
    const local = path.join(SSMD_BIN_DIR, name);
    found = isExecutableFile(local) ? local : searchPath(name);
  }
  if (found === undefined) {
    throw new Error(
      `test server binary "${name}" not found (looked at $${envVar}, ${path.join(SSMD_BIN_DIR, name)} and PATH); ${SETUP_HINT}`,
    );
  }
  if (name === 'nats-server') checkNatsVersion(found);
  cache.set(cacheKey, found);
  return found;
}

/** Parse "nats-server: v2.15.1" -> [2, 15, 1]. */
export function parseVersion(text: string): [number, number, number] | undefined {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function checkNatsVersion(bin: string): void {
  let out: string;
  try {
    out = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`could not run ${bin} --version: ${(err as Error).message}; ${SETUP_HINT}`, { cause: err });
  }
  const v = parseVersion(out);
  const [minMajor, minMinor] = MIN_NATS_VERSION;
  if (!v) throw new Error(`could not parse the version of ${bin} from ${JSON.stringify(out.trim())}`);
  const [major, minor] = v;
  if (major < minMajor || (major === minMajor && minor < minMinor)) {
    throw new Error(
      `${bin} is nats-server ${v.join('.')}, but the tests need >= ${minMajor}.${minMinor} (JetStream 2.10 features); ` +
        `${SETUP_HINT}, or point ${envVarFor('nats-server')} at a newer binary`,
    );
  }
}
