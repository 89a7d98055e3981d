import type { Generated } from 'kysely';

export interface DqFindingsTable {
  id: Generated<number>;
  fingerprint: string;
  feed: string;
  day: string;
  kind: string;
  severity: 'info' | 'warning' | 'error';
  symbols: Generated<string[]>;
  window_start: Date | null;
  window_end: Date | null;
  summary: string;
  detail: Generated<unknown>;
  source: string;
  run_id: string | null;
  status: Generated<'open' | 'queued' | 'filed' | 'closed'>;
  tracker_id: string | null;
  tracker_url: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface DqEvidenceTable {
  id: Generated<number>;
  finding_id: number;
  evidence: unknown;
  added_by: string;
  created_at: Generated<Date>;
}

export interface DqDayStatusTable {
  feed: string;
  day: string;
  status: 'available' | 'degraded' | 'missing';
  score: string;
  reasons: Generated<unknown>;
  run_id: string | null;
  computed_at: Generated<Date>;
}
