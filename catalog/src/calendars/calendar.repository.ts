import type { Kysely } from 'kysely';
import type { Database } from '../database.js';
import type { Calendar, DayDefinition } from '../tables/calendars.table.js';
import { asOf, upsertVersion, type UpsertOutcome, type VersionedSpec } from '../timeseries/timeseries.js';

export const CALENDAR_SPEC: VersionedSpec = { table: 'calendars', key: ['name'], columns: { weekdays: 'text[]', holidays: 'date[]' } };
export const DAY_DEFINITION_SPEC: VersionedSpec = {
  table: 'day_definitions', key: ['environment'],
  columns: { timezone: 'text', start_time: 'text', end_time: 'text', overnight: 'boolean', calendar: 'text' },
};

/** Built-in calendars every environment may name without declaring them. */
export const BUILTIN_CALENDARS: ReadonlyArray<{ name: string; weekdays: string[]; holidays: string[] }> = [
  { name: 'every-day', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], holidays: [] },
  { name: 'weekdays', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], holidays: [] },
];

export function recordCalendar(db: Kysely<Database>, cal: { name: string; weekdays: string[]; holidays: string[] }, at: Date): Promise<UpsertOutcome> {
  return upsertVersion(db, CALENDAR_SPEC, { ...cal, holidays: [...cal.holidays].sort() }, at);
}

export async function calendarAsOf(db: Kysely<Database>, name: string, at: Date): Promise<Calendar | undefined> {
  return (await asOf<Calendar>(db, CALENDAR_SPEC, at, { name }))[0];
}

export function recordDayDefinition(
  db: Kysely<Database>, def: { environment: string; timezone: string; start_time: string; end_time: string; overnight: boolean; calendar: string }, at: Date,
): Promise<UpsertOutcome> {
  return upsertVersion(db, DAY_DEFINITION_SPEC, def, at);
}

export async function dayDefinitionAsOf(db: Kysely<Database>, environment: string, at: Date): Promise<DayDefinition | undefined> {
  return (await asOf<DayDefinition>(db, DAY_DEFINITION_SPEC, at, { environment }))[0];
}

const WEEKDAY_INDEX = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Whether `day` (`YYYY-MM-DD`, a date in the calendar's own terms) is a trading day. */
export function isTradingDay(cal: Pick<Calendar, 'weekdays' | 'holidays'>, day: string): boolean {
  const weekday = WEEKDAY_INDEX[new Date(`${day}T12:00:00Z`).getUTCDay()]!;
  return cal.weekdays.includes(weekday) && !cal.holidays.includes(day);
}
