/** Pure parts of the archiver: layout, tunables, manifest changes. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/src/errors.js';
import { loadArchiverTunables, parseArchiverTunables } from '../src/config.js';
import { daysBetween, dayKey, hourBucket, hourEndNs, isDayLabel, parseDayKey, rawFileName } from '../src/layout.js';
import { applyOp, emptyManifest, type ManifestFile } from '../src/manifest.js';
import { nsAt } from './helpers.js';

describe('layout', () => {
  it('buckets receive times by UTC day and hour, boundaries included', () => {
    expect(hourBucket(nsAt('2026-11-29T23:59:59.999Z'))).toMatchObject({ day: '2026-11-29', hour: 23, endNs: nsAt('2026-11-30T00:00:00Z') });
    expect(hourBucket(nsAt('2026-11-30T00:00:00Z'))).toMatchObject({ day: '2026-11-30', hour: 0 });
    expect(hourBucket(nsAt('2026-11-30T00:00:00Z') - 1n)).toMatchObject({ day: '2026-11-29', hour: 23 });
    expect(hourEndNs('2026-11-29', 23)).toBe(nsAt('2026-11-30T00:00:00Z'));
    expect(hourBucket(-1n)).toMatchObject({ day: '1969-12-31', hour: 23 });
  });

  it('names files <hh>-<firstJournalSeq>.jsonl.gz under raw/<env>/<feed>/<day>/ and parses keys back', () => {
    expect(rawFileName(7, 1200)).toBe('07-1200.jsonl.gz');
    expect(dayKey('lab', 'kalshi', '2026-11-29', '07-1200.jsonl.gz')).toBe('raw/lab/kalshi/2026-11-29/07-1200.jsonl.gz');
    expect(parseDayKey('lab', 'kalshi', 'raw/lab/kalshi/2026-11-29/manifest.json')).toEqual({ day: '2026-11-29', name: 'manifest.json' });
    expect(parseDayKey('lab', 'kalshi', 'raw/lab/kraken/2026-11-29/x')).toBeUndefined();
    expect(daysBetween('2026-11-29', '2026-12-01')).toEqual(['2026-11-29', '2026-11-30', '2026-12-01']);
    expect(isDayLabel('2026-02-30')).toBe(false);
  });
});

describe('tunables', () => {
  it('has documented defaults, reads SSMD_ARCHIVER_* and names the bad field', () => {
    expect(parseArchiverTunables({})).toEqual({ maxFileBytes: 64 * 1024 * 1024, commitEvery: 10_000, commitIntervalMs: 1_000, hourGraceMs: 10_000, consumerStallMs: 15_000 });
    expect(loadArchiverTunables({ SSMD_ARCHIVER_COMMIT_EVERY: '50', OTHER: 'x' })).toMatchObject({ commitEvery: 50, maxFileBytes: 64 * 1024 * 1024 });
    expect(Object.isFrozen(loadArchiverTunables({}))).toBe(true);
    expect(() => loadArchiverTunables({ SSMD_ARCHIVER_MAX_FILE_BYTES: 'lots' })).toThrow(ConfigError);
    expect(() => parseArchiverTunables({ commitEvery: 0 })).toThrow(/commitEvery/);
  });
});

describe('manifest changes', () => {
  const file = (name: string, sha: string, first: number): ManifestFile => ({
    name, sha256: sha, bytes: 10, lines: 1, firstJournalSeq: first, lastJournalSeq: first, firstRecvNs: '1', lastRecvNs: '1', connections: {}, uploaded: false,
  });
  it('are idempotent: re-applying after a crash changes nothing; uploaded survives only an identical file', () => {
    const m = emptyManifest('lab', 'kalshi', '2026-11-29');
    expect(applyOp(m, { op: 'file', day: m.day, file: file('01-9.jsonl.gz', 'b', 9) })).toBe(true);
    expect(applyOp(m, { op: 'file', day: m.day, file: file('00-1.jsonl.gz', 'a', 1) })).toBe(true);
    expect(m.files.map((f) => f.name)).toEqual(['00-1.jsonl.gz', '01-9.jsonl.gz']);
    m.files[0]!.uploaded = true;
    expect(applyOp(m, { op: 'file', day: m.day, file: file('00-1.jsonl.gz', 'a', 1) })).toBe(false);
    expect(m.files[0]!.uploaded).toBe(true);
    expect(applyOp(m, { op: 'file', day: m.day, file: file('00-1.jsonl.gz', 'other', 1) })).toBe(true);
    expect(m.files[0]!.uploaded).toBe(false);
    const gap = { kind: 'journal' as const, fromJournalSeq: 2, toJournalSeq: 8, missing: 7, afterRecvNs: null, beforeRecvNs: '5' };
    expect(applyOp(m, { op: 'gap', day: m.day, gap })).toBe(true);
    expect(applyOp(m, { op: 'gap', day: m.day, gap: { ...gap } })).toBe(false);
    expect(applyOp(m, { op: 'complete', day: m.day })).toBe(true);
    expect(applyOp(m, { op: 'complete', day: m.day })).toBe(false);
    expect(applyOp(m, { op: 'reopen', day: m.day })).toBe(true);
    expect(m).toMatchObject({ complete: false, gaps: [gap] });
  });
});
