import { expect, it } from 'vitest';
import { describeOnBothCatalogs } from './context.js';
import { findingEvidence, fingerprintOf, listFindings, recordFinding } from '../src/dq/finding.repository.js';
import { CatalogFindingSink } from '../src/dq/catalog-finding-sink.js';

describeOnBothCatalogs('data-quality findings', (catalog) => {
  const gap = {
    feed: 'kalshi', day: '2026-11-29', kind: 'gap', severity: 'error' as const, summary: 'disconnected 14:02-14:09',
    symbols: ['KXBTCD-26NOV30-T98000', 'KXBTCD-26NOV30-T97000'], windowStart: new Date('2026-11-29T14:02:00Z'), windowEnd: new Date('2026-11-29T14:09:00Z'), source: 'connector:kalshi-0',
  };

  it('deduplicates by fingerprint and appends evidence', async () => {
    const { db } = catalog();
    const a = await recordFinding(db, { ...gap, evidence: { query: 'select 1', rows: 0 } });
    const b = await recordFinding(db, { ...gap, symbols: [...gap.symbols].reverse(), source: 'agent:abc', evidence: { note: 'seen again' } });
    expect(a.created).toBe(true);
    expect(b).toMatchObject({ id: a.id, created: false, fingerprint: a.fingerprint });
    expect((await findingEvidence(db, a.id)).map((e) => e.added_by)).toEqual(['connector:kalshi-0', 'agent:abc']);
    const other = await recordFinding(db, { ...gap, windowEnd: new Date('2026-11-29T14:10:00Z') });
    expect(other.created).toBe(true);
    expect(await listFindings(db, { day: '2026-11-29', feed: 'kalshi' })).toHaveLength(2);
    expect(fingerprintOf(gap)).toBe(a.fingerprint);
  });

  it('stores middleware findings through the sink, on the day of their window', async () => {
    const { db } = catalog();
    const sink = new CatalogFindingSink(db, { feed: 'kraken', source: 'connector:kraken-0' });
    sink.record({ kind: 'buffer_limit_reached', severity: 'warning', summary: 'limit', windowStart: Date.parse('2026-11-28T23:59:59Z'), detail: { maxBufferBytes: 1 } });
    sink.record({ kind: 'data_dropped', severity: 'error', summary: 'dropped 3', windowStart: Date.parse('2026-11-29T00:00:01Z'), windowEnd: Date.parse('2026-11-29T00:00:05Z'), detail: { count: 3 } });
    await sink.flush();
    const rows = await listFindings(db, { feed: 'kraken' });
    expect(rows.map((r) => [r.day, r.kind, r.severity])).toEqual([['2026-11-28', 'buffer_limit_reached', 'warning'], ['2026-11-29', 'data_dropped', 'error']]);
    expect(rows[1]!.detail).toEqual({ count: 3 });
    expect(sink.failed).toEqual([]);
  });
});
