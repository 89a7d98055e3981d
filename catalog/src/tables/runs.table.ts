import type { Generated, Selectable } from 'kysely';

export type RunKind = 'capture' | 'archive' | 'normalize' | 'dq' | 'secmaster-sync' | 'compare' | 'day' | 'other';
export type RunStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface RunsTable {
  id: string;
  kind: RunKind;
  environment: string | null;
  feed: string | null;
  /** UTC day label `YYYY-MM-DD`. */
  day: string | null;
  status: RunStatus;
  params: Generated<unknown>;
  host: string;
  code_version: string;
  error: string | null;
  created_at: Generated<Date>;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface CheckpointsTable {
  job: string;
  scope: string;
  position: unknown;
  run_id: string | null;
  updated_at: Generated<Date>;
}

export interface ProvenanceTable {
  id: Generated<number>;
  run_id: string;
  feed: string;
  dataset: string;
  dataset_version: number;
  day: string;
  inputs: unknown;
  outputs: unknown;
  code_version: string;
  transform_name: string;
  transform_version: number;
  transform_sha256: string;
  secmaster_as_of: Date | null;
  row_counts: Generated<unknown>;
  outcome: 'new' | 'unchanged' | 'replaced';
  host: string;
  started_at: Date;
  finished_at: Date;
  created_at: Generated<Date>;
}

export type Run = Selectable<RunsTable>;
export type Checkpoint = Selectable<CheckpointsTable>;
