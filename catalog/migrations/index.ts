import type { Migration } from 'kysely';
import * as m000100 from './2026_11_30_000100_create_feeds.js';
import * as m000200 from './2026_11_30_000200_create_calendars.js';
import * as m000300 from './2026_11_30_000300_create_environments.js';
import * as m000400 from './2026_11_30_000400_create_secmaster.js';
import * as m000500 from './2026_11_30_000500_create_runs_provenance_dq.js';
import * as m000600 from './2026_11_30_000600_create_keys_audit.js';

/**
 * Every migration, by its frozen name. Listed statically (not read from the directory) so the
 * same list runs from sources under vitest and from the compiled `dist/`. Append only.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '2026_11_30_000100_create_feeds': m000100,
  '2026_11_30_000200_create_calendars': m000200,
  '2026_11_30_000300_create_environments': m000300,
  '2026_11_30_000400_create_secmaster': m000400,
  '2026_11_30_000500_create_runs_provenance_dq': m000500,
  '2026_11_30_000600_create_keys_audit': m000600,
};
