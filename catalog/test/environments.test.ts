import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { describeOnBothCatalogs } from './context.js';
import { parseEnvironment } from '../../core/src/environment/index.js';
import { ConfigError } from '../../core/src/errors.js';
import { applyEnvironment, environmentHistory, getRevision, listEnvironments, planEnvironment } from '../src/environments/environment.repository.js';
import { calendarAsOf, dayDefinitionAsOf, isTradingDay } from '../src/calendars/calendar.repository.js';
import { listAudit } from '../src/audit/audit.repository.js';
import { loadCheckpoint, saveCheckpoint, startRun, finishRun, getRun } from '../src/runs/run.repository.js';

const text = (start: string, holidays: string[] = ['2026-12-25']) => `name: lab
day: {timezone: America/New_York, start: "${start}", end: "20:00", calendar: us-days}
calendars:
  - {name: us-days, weekdays: [mon, tue, wed, thu, fri], holidays: [${holidays.join(', ')}]}
feeds:
  - {feed: kraken, select: {pairs: [BTC/USD]}, channels: [ticker]}
`;
const load = (t: string) => ({ env: parseEnvironment(t, 'lab.yaml'), text: t, file: 'lab.yaml', sha256: createHash('sha256').update(t).digest('hex') });
const at = (s: string) => new Date(s);

describeOnBothCatalogs('environments, calendars and day definitions', (catalog) => {
  it('records revisions and answers as-of queries for the day definition and calendar', async () => {
    const { db } = catalog();
    const r1 = await applyEnvironment(db, load(text('08:00')), { actor: 'alice', at: at('2026-11-01T00:00:00Z') });
    expect(r1.revision).toBe(1);
    const r2 = await applyEnvironment(db, load(text('09:00', ['2026-12-25', '2026-12-24'])), { actor: 'bob', at: at('2026-11-15T00:00:00Z') });
    expect(r2.changes.map((c) => `${c.op} ${c.area}`)).toEqual(['add revision', 'change calendar', 'change day']);
    expect(r2.diff.map((d) => `${d.op} ${d.path}`).sort()).toEqual(['add calendars.us-days.holidays', 'change day.start']);

    expect((await dayDefinitionAsOf(db, 'lab', at('2026-11-14T23:59:59Z')))?.start_time).toBe('08:00');
    expect((await dayDefinitionAsOf(db, 'lab', at('2026-11-15T00:00:00Z')))?.start_time).toBe('09:00');
    const calBefore = (await calendarAsOf(db, 'us-days', at('2026-11-10T00:00:00Z')))!;
    const calAfter = (await calendarAsOf(db, 'us-days', at('2026-11-20T00:00:00Z')))!;
    expect(calBefore.holidays).toEqual(['2026-12-25']);
    expect(calAfter.holidays).toEqual(['2026-12-24', '2026-12-25']);
    expect(isTradingDay(calBefore, '2026-12-24')).toBe(true);
    expect(isTradingDay(calAfter, '2026-12-24')).toBe(false);
    expect(isTradingDay(calAfter, '2026-11-28')).toBe(false); // a Saturday

    const history = await environmentHistory(db, 'lab');
    expect(history.map((h) => [h.revision, h.applied_by])).toEqual([[2, 'bob'], [1, 'alice']]);
    expect((await getRevision(db, 'lab', { revision: 1 })).content).toContain('start: "08:00"');
    expect(await listEnvironments(db)).toMatchObject([{ name: 'lab', revision: 2 }]);
    expect((await listAudit(db, { action: 'env.apply' })).length).toBe(2);
  });

  it('plans exactly what apply then does, and plan writes nothing', async () => {
    const { db } = catalog();
    const plan = await planEnvironment(db, load(text('08:00')), { actor: 'alice' });
    await expect(environmentHistory(db, 'lab')).rejects.toThrow(/never been applied/);
    const applied = await applyEnvironment(db, load(text('08:00')), { actor: 'alice' });
    expect(applied.changes).toEqual(plan.changes);
    const again = await planEnvironment(db, load(text('08:00')), { actor: 'alice' });
    expect(again.unchanged).toBe(true);
    expect(again.changes).toEqual([]);
  });

  it('refuses a missing key reference before writing anything', async () => {
    const { db } = catalog();
    const t = text('08:00').replace('channels: [ticker]}', 'channels: [ticker]}\n  - {feed: kalshi, channels: [trade], credentials: "key:nope"}');
    const err = await applyEnvironment(db, load(t), { actor: 'alice' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues[0]).toMatchObject({ file: 'lab.yaml', line: 7, path: 'feeds[1].credentials' });
    expect(await listEnvironments(db)).toEqual([]);
  });

  it('keeps runs and resumable checkpoints', async () => {
    const { db } = catalog();
    const run = await startRun(db, { kind: 'normalize', codeVersion: 'test', feed: 'kraken', day: '2026-11-29' });
    await saveCheckpoint(db, 'normalize', 'kraken/2026-11-29', { line: 100 }, run.id);
    await saveCheckpoint(db, 'normalize', 'kraken/2026-11-29', { line: 250 }, run.id);
    expect((await loadCheckpoint(db, 'normalize', 'kraken/2026-11-29'))?.position).toEqual({ line: 250 });
    await finishRun(db, run.id, 'succeeded');
    expect(await getRun(db, run.id)).toMatchObject({ status: 'succeeded', day: '2026-11-29', feed: 'kraken' });
  });
});
