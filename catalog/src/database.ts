import type { CalendarsTable, DayDefinitionsTable } from './tables/calendars.table.js';
import type { DqDayStatusTable, DqEvidenceTable, DqFindingsTable } from './tables/dq.table.js';
import type { EnvironmentFeedsTable, EnvironmentRevisionsTable, EnvironmentsTable } from './tables/environments.table.js';
import type { FeedVersionsTable, FeedsTable } from './tables/feeds.table.js';
import type { ApiKeysTable, AuditLogTable, SecretsTable } from './tables/keys.table.js';
import type { CheckpointsTable, ProvenanceTable, RunsTable } from './tables/runs.table.js';
import type { SecmasterTables } from './tables/secmaster.table.js';

/** Every catalog table, for Kysely's typed query builder. */
export interface Database extends SecmasterTables {
  feeds: FeedsTable;
  feed_versions: FeedVersionsTable;
  calendars: CalendarsTable;
  day_definitions: DayDefinitionsTable;
  environments: EnvironmentsTable;
  environment_revisions: EnvironmentRevisionsTable;
  environment_feeds: EnvironmentFeedsTable;
  runs: RunsTable;
  checkpoints: CheckpointsTable;
  provenance: ProvenanceTable;
  dq_findings: DqFindingsTable;
  dq_evidence: DqEvidenceTable;
  dq_day_status: DqDayStatusTable;
  secrets: SecretsTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
}
