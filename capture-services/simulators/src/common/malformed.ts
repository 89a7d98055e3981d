import type { Prng } from './prng.js';
import type { MalformedVariant } from './types.js';

/** Keys left intact by `wrong-types`, so the bad frame still routes to the venue's parser. */
const ROUTING_KEYS = new Set(['type', 'channel', 'event_type', 'method', 'sid', 'seq', 'symbol']);

/**
 * The bad frame sent before the next real data frame (which is then sent normally).
 * - `truncated-json`: the first half of the next frame's text;
 * - `wrong-types`: the next frame with every number turned into a string and every string into a number,
 *   routing keys (`type`, `channel`, `event_type`, `sid`, `seq`, ...) kept;
 * - `huge`: the next frame with a `padding` string making it `hugeBytes` long (valid JSON);
 * - `binary`: 64 seeded random bytes in a binary frame.
 */
export function malformedFrame(variant: MalformedVariant, next: string, hugeBytes: number, prng: Prng): string | Buffer {
  switch (variant) {
    case 'truncated-json':
      return next.slice(0, Math.max(1, Math.floor(next.length / 2)));
    case 'wrong-types':
      return wrongTypes(next);
    case 'huge':
      return padded(next, hugeBytes);
    case 'binary': {
      const bytes = Buffer.alloc(64);
      for (let i = 0; i < bytes.length; i++) bytes[i] = prng.int(0, 255);
      bytes[0] = 0xff; // never valid UTF-8, never '{' or '['
      return bytes;
    }
  }
}

function wrongTypes(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return '{"type":123,"msg":"wrong-types"}';
  }
  return JSON.stringify(mutate(parsed, ''));
}

function mutate(value: unknown, key: string): unknown {
  if (ROUTING_KEYS.has(key)) return value;
  if (typeof value === 'number') return 'not-a-number';
  if (typeof value === 'string') return -1;
  if (typeof value === 'boolean') return 'yes';
  if (Array.isArray(value)) return value.map((v) => mutate(v, ''));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = mutate(v, k);
    return out;
  }
  return value;
}

function padded(text: string, bytes: number): string {
  const pad = 'x'.repeat(Math.max(0, bytes - text.length - 16));
  if (text.startsWith('{')) return `{"padding":"${pad}",${text.slice(1)}`;
  if (text.startsWith('[')) return `[{"padding":"${pad}"},${text.slice(1)}`;
  return `{"padding":"${pad}"}`;
}
