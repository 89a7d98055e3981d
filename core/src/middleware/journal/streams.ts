/** Stream-spec rules shared by both journals, so they accept and reject the same specs. */
import { JournalCoverageError } from '../errors.js';
import type { StreamSpec } from '../journal.js';
import { patternCovers } from '../subjects.js';
import { JournalSpecError } from './errors.js';

const STREAM_NAME = /^[A-Za-z0-9_-]{1,200}$/;
const TOKEN = /^[^\s.*>]+$/;
/** JetStream's default duplicate window, used when a spec says 0 (as the server does). */
const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

/** Throw JournalSpecError unless `spec` is usable by both journal implementations. */
export function validateStreamSpec(spec: StreamSpec): void {
  const bad = (why: string) => new JournalSpecError(`stream ${spec.name}: ${why}`);
  if (!STREAM_NAME.test(spec.name)) throw bad('name must be 1-200 characters of [A-Za-z0-9_-]');
  if (spec.subjects.length === 0) throw bad('needs at least one subject');
  for (const s of spec.subjects) if (!isValidPattern(s)) throw bad(`invalid subject pattern "${s}"`);
  if (!Number.isInteger(spec.maxAgeMs) || spec.maxAgeMs < 0) throw bad('maxAgeMs must be an integer >= 0');
  if (!Number.isInteger(spec.maxBytes) || (spec.maxBytes < 1 && spec.maxBytes !== -1)) throw bad('maxBytes must be -1 or a positive integer');
  if (!Number.isInteger(spec.duplicateWindowMs) || spec.duplicateWindowMs < 0) throw bad('duplicateWindowMs must be an integer >= 0');
  if (spec.maxAgeMs > 0 && spec.duplicateWindowMs > spec.maxAgeMs) throw bad('duplicateWindowMs cannot exceed maxAgeMs');
}

/** Validate every spec and refuse two streams capturing the same subject (JetStream refuses it too). */
export function validateStreamSpecs(specs: readonly StreamSpec[], existing: readonly StreamSpec[] = []): void {
  for (const s of specs) validateStreamSpec(s);
  const byName = new Map(existing.map((s) => [s.name, s]));
  for (const s of specs) byName.set(s.name, s);
  const all = [...byName.values()];
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i]!;
      const b = all[j]!;
      for (const pa of a.subjects) {
        const pb = b.subjects.find((p) => patternsOverlap(pa, p));
        if (pb !== undefined) throw new JournalSpecError(`streams ${a.name} ("${pa}") and ${b.name} ("${pb}") capture overlapping subjects`);
      }
    }
  }
}

/** The window in effect: 0 means JetStream's default (2 min, or maxAge if shorter). */
export function effectiveDuplicateWindowMs(spec: StreamSpec): number {
  if (spec.duplicateWindowMs > 0) return spec.duplicateWindowMs;
  return spec.maxAgeMs > 0 ? Math.min(spec.maxAgeMs, DEFAULT_DUPLICATE_WINDOW_MS) : DEFAULT_DUPLICATE_WINDOW_MS;
}

/** Throw JournalCoverageError listing every subject (wildcards allowed) that no pattern covers. */
export function assertCovered(captured: readonly string[], subjects: readonly string[]): void {
  const uncovered = subjects.filter((s) => !captured.some((p) => patternCovers(p, s)));
  if (uncovered.length > 0) throw new JournalCoverageError(uncovered);
}

/** A publishable subject: non-empty tokens, no wildcards, no whitespace. */
export function isValidSubject(subject: string): boolean {
  return subject.split('.').every((t) => TOKEN.test(t));
}

function isValidPattern(pattern: string): boolean {
  const t = pattern.split('.');
  return t.every((tok, i) => tok === '*' || (tok === '>' && i === t.length - 1) || TOKEN.test(tok));
}

/** Could some subject match both patterns? */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === '>' || y[i] === '>') return true;
    if (x[i] !== '*' && y[i] !== '*' && x[i] !== y[i]) return false;
  }
  return x.length === y.length;
}
