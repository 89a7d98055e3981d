import { userInfo, hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../core/src/errors.js';

/**
 * The CLI's process-edge configuration, parsed once from the environment and frozen
 * (style lesson 14). Nothing deeper reads `process.env`.
 */
const EnvSchema = z.object({
  SSMD_HOME: z.string().min(1).optional(),
  SSMD_CATALOG: z.string().min(1).optional(),
  SSMD_MASTER_KEY: z.string().min(1).optional(),
  SSMD_MASTER_KEY_FILE: z.string().min(1).optional(),
  SSMD_ACTOR: z.string().min(1).max(200).optional(),
  SSMD_CLI_ENTRY: z.string().min(1).optional(),
});

export interface CliConfig {
  /** State directory: embedded catalog, master key, local data. Default `./.ssmd`. */
  readonly home: string;
  /** Catalog location: `postgres://…`, `pglite:<dir>`; default `pglite:<home>/catalog`. */
  readonly catalogUrl: string;
  readonly masterKey: { readonly value?: string; readonly file: string };
  /** Who acts, for the audit log; default `<user>@<host>`. */
  readonly actor: string;
  /** Script that runs this CLI in a child process (`day start`); default the repository's `bin/ssmd.mjs`. */
  readonly cliEntry?: string;
  /**
   * WebSocket URL overrides from `SSMD_WS_URL_<FEED>` (feed name or venue in capitals, `-` as `_`),
   * e.g. `SSMD_WS_URL_KRAKEN=ws://127.0.0.1:9000/v2` to point capture at a simulator.
   */
  readonly wsUrls: Readonly<Record<string, string>>;
}

/** The override for a feed: by its name first, then by its venue. */
export function wsUrlFor(config: CliConfig, feed: { name: string; feed: string }): string | undefined {
  const key = (s: string) => s.toUpperCase().replace(/-/g, '_');
  return config.wsUrls[key(feed.name)] ?? config.wsUrls[key(feed.feed)];
}

export function loadCliConfig(env: Record<string, string | undefined>, cwd: string, overrides: { home?: string; catalog?: string } = {}): CliConfig {
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('SSMD_') && !k.startsWith('SSMD_WS_URL_'))));
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({
      file: 'environment variables', path: i.path.join('.'), expected: i.message, got: JSON.stringify(env[String(i.path[0])] ?? null),
    })));
  }
  const e = parsed.data;
  const homeRaw = overrides.home ?? e.SSMD_HOME ?? '.ssmd';
  const home = isAbsolute(homeRaw) ? homeRaw : resolve(cwd, homeRaw);
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch { /* no passwd entry in some containers */ }
  return Object.freeze({
    home,
    catalogUrl: overrides.catalog ?? e.SSMD_CATALOG ?? `pglite:${join(home, 'catalog')}`,
    masterKey: Object.freeze({ ...(e.SSMD_MASTER_KEY ? { value: e.SSMD_MASTER_KEY } : {}), file: e.SSMD_MASTER_KEY_FILE ?? join(home, 'master.key') }),
    actor: e.SSMD_ACTOR ?? `${user}@${hostname()}`,
    ...(e.SSMD_CLI_ENTRY ? { cliEntry: e.SSMD_CLI_ENTRY } : {}),
    wsUrls: Object.freeze(Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('SSMD_WS_URL_') && v).map(([k, v]) => [k.slice('SSMD_WS_URL_'.length), v!]))),
  });
}
