import type { Generated, Selectable } from 'kysely';

export interface EnvironmentsTable {
  name: string;
  created_at: Generated<Date>;
}

export interface EnvironmentRevisionsTable {
  id: Generated<number>;
  environment: string;
  revision: number;
  content: string;
  content_sha256: string;
  spec: unknown;
  source_file: string;
  applied_by: string;
  applied_at: Generated<Date>;
}

export interface EnvironmentFeedsTable {
  id: Generated<number>;
  environment: string;
  feed_name: string;
  venue: string;
  spec: unknown;
  valid_from: Date;
  valid_to: Date | null;
}

export type EnvironmentRevision = Selectable<EnvironmentRevisionsTable>;
export type EnvironmentFeed = Selectable<EnvironmentFeedsTable>;
