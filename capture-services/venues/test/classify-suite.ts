import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { malformedFrame } from '../../simulators/src/common/malformed.js';
import { Prng } from '../../simulators/src/common/prng.js';
import type { Classification } from '../src/classification.js';

/** Real captures (capture-services/test/fixtures/real/) and this package's hand-written fixtures. */
export const REAL = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'real');
const FIXTURES = join(import.meta.dirname, 'fixtures');

export function realLines(file: string): string[] {
  return readFileSync(join(REAL, file), 'utf8').split('\n').filter((l) => l.trim() !== '');
}

interface Variant {
  name: string;
  expect: Partial<Classification>;
  frame?: unknown;
  text?: string;
}

/** The bytes of a fixture variant: `text` verbatim, else the JSON of `frame`. */
export function variantBytes(v: Variant): Buffer {
  return Buffer.from(v.text ?? JSON.stringify(v.frame), 'utf8');
}

/**
 * The tests every classifier passes: each variant of `fixtures/<venue>/ws_*.json` gives its expected verdict, and
 * bad input (the simulator's malformed variants of every real line, a 5 MB frame, binary, every truncation of a
 * frame) is `malformed` or `unknown`, never a throw.
 */
export function describeClassifier(venue: string, classify: (bytes: Uint8Array) => Classification, seeds: readonly string[]): void {
  describe(`${venue} fixtures (fixtures/${venue}/ws_*.json)`, () => {
    const files = readdirSync(join(FIXTURES, venue)).filter((f) => /^ws_.+\.json$/.test(f)).sort();
    it('has fixture files', () => expect(files.length).toBeGreaterThan(5));
    for (const file of files) {
      const { variants } = JSON.parse(readFileSync(join(FIXTURES, venue, file), 'utf8')) as { variants: Variant[] };
      for (const v of variants) {
        it(`${file}: ${v.name}`, () => {
          const c = classify(variantBytes(v));
          expect(c).toMatchObject(v.expect);
          if (v.expect.exSeq === undefined) expect(c.exSeq).toBeUndefined();
        });
      }
    }
  });

  describe(`${venue} bad input is malformed or unknown, never a throw`, () => {
    const bad = (c: Classification): void => {
      expect(['malformed', 'unknown']).toContain(c.kind);
      expect(c.symbol).toBe('_');
    };
    const prng = new Prng(7);
    it.each(['truncated-json', 'wrong-types', 'binary'] as const)('the simulator\'s %s variant of every seed frame', (variant) => {
      for (const line of seeds) bad(classify(Buffer.from(malformedFrame(variant, line, 0, prng) as string | Buffer)));
    });
    it('a 5 MB frame (valid JSON) is malformed: over the frame limit', () => {
      const seed = seeds[0] as string;
      const huge = malformedFrame('huge', seed, 5 * 1024 * 1024, prng) as string;
      expect(huge.length).toBeGreaterThanOrEqual(5 * 1024 * 1024 - 32);
      const c = classify(Buffer.from(huge));
      expect(c).toMatchObject({ kind: 'malformed', type: 'malformed' });
      expect(c.detail).toMatch(/limit/);
    });
    it('binary that is not UTF-8 is malformed', () => {
      expect(classify(Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0xc3]))).toMatchObject({ kind: 'malformed' });
      expect(classify(new Uint8Array(0))).toMatchObject({ kind: 'malformed' });
    });
    it('every truncation of a seed frame', () => {
      const seed = Buffer.from(seeds[seeds.length - 1] as string);
      for (let n = 1; n < seed.length; n++) bad(classify(seed.subarray(0, n)));
    });
    it('JSON of other types: numbers, strings, null, nested arrays', () => {
      for (const t of ['0', '-1.5e400', '"PONG!"', 'null', 'true', '[[]]', '[null]', '{}', '{"type":null}']) {
        expect(() => classify(Buffer.from(t))).not.toThrow();
        expect(['malformed', 'unknown']).toContain(classify(Buffer.from(t)).kind);
      }
    });
  });
}
