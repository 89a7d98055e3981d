import type { Generated, Insertable, Selectable } from 'kysely';

export interface FeedsTable {
  name: string;
  venue: 'kalshi' | 'polymarket' | 'kraken';
  description: Generated<string>;
  created_at: Generated<Date>;
}

export interface FeedVersionsTable {
  id: Generated<number>;
  feed: string;
  version: number;
  protocol_version: string;
  endpoints: Record<string, string>;
  channels: string[];
  capture_locations: Generated<unknown[]>;
  effective_from: Date;
  effective_to: Date | null;
  recorded_at: Generated<Date>;
}

export type Feed = Selectable<FeedsTable>;
export type FeedVersion = Selectable<FeedVersionsTable>;
export type NewFeedVersion = Insertable<FeedVersionsTable>;
