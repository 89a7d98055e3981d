import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AuthError, ConfigError } from '../errors.js';
import { masterKeyFrom, type MasterKey } from './envelope.js';

/** Where the master key comes from, in order: an inline value, then a file. */
export interface MasterKeySource {
  /** `SSMD_MASTER_KEY`: 32 bytes as base64 or 64 hex characters. */
  value?: string | undefined;
  /** `SSMD_MASTER_KEY_FILE`, or `<home>/master.key` by default. */
  file: string;
}

function decode(text: string, origin: string): MasterKey {
  const t = text.trim();
  const bytes = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (bytes.length !== 32) {
    throw new ConfigError([{ file: origin, path: '', expected: '32 bytes as base64 (44 chars) or hex (64 chars)', got: `${bytes.length} bytes` }]);
  }
  return masterKeyFrom(bytes);
}

/** Load the master key; a key file readable by group or others is refused, as ssh does. */
export async function loadMasterKey(src: MasterKeySource): Promise<MasterKey> {
  if (src.value) return decode(src.value, 'SSMD_MASTER_KEY');
  let mode: number;
  try {
    mode = (await stat(src.file)).mode;
  } catch {
    throw new AuthError(`no master key: set SSMD_MASTER_KEY or SSMD_MASTER_KEY_FILE, or run \`ssmd init\` to create ${src.file}`);
  }
  if ((mode & 0o077) !== 0) throw new AuthError(`master key file ${src.file} is readable by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${src.file}`);
  return decode(await readFile(src.file, 'utf8'), src.file);
}

/** Create a new random master key file (mode 0600) unless one exists. Returns true when created. */
export async function ensureMasterKeyFile(file: string): Promise<boolean> {
  try {
    await stat(file);
    return false;
  } catch {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return true;
  }
}
