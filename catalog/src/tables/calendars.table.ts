import type { Generated, Selectable } from 'kysely';

export interface CalendarsTable {
  id: Generated<number>;
  name: string;
  weekdays: string[];
  /** `YYYY-MM-DD` labels. */
  holidays: string[];
  valid_from: Date;
  valid_to: Date | null;
  recorded_at: Generated<Date>;
}

export interface DayDefinitionsTable {
  id: Generated<number>;
  environment: string;
  timezone: string;
  start_time: string;
  end_time: string;
  overnight: boolean;
  calendar: string;
  valid_from: Date;
  valid_to: Date | null;
  recorded_at: Generated<Date>;
}

export type Calendar = Selectable<CalendarsTable>;
export type DayDefinition = Selectable<DayDefinitionsTable>;
