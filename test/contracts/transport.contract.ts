/**
 * The Transport contract (core/src/middleware/transport.ts): every kind must pass it. Each test
 * opens a fresh transport and uses its own subject root, so retained messages from one test never
 * reach another. Negative checks use a fence: a later message that must arrive, published after
 * the ones that must not, on the same connection (delivery is in publish order).
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { MiddlewareUnavailableError } from '../../core/src/middleware/errors.js';
import { parseRawSubject, rawFeedFilter, rawSubject } from '../../core/src/middleware/subjects.js';
import type { Subscription, Transport, TransportMessage } from '../../core/src/middleware/transport.js';

export interface OpenedTransport {
  transport: Transport;
  cleanup(): Promise<void>;
}

/** Polls `cond` every 5 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A subscription that records what it receives. */
export async function listen(t: Transport, pattern: string): Promise<{ msgs: TransportMessage[]; sub: Subscription; subjects(): string[] }> {
  const msgs: TransportMessage[] = [];
  const sub = await t.subscribe(pattern, (m) => msgs.push(m));
  return { msgs, sub, subjects: () => msgs.map((m) => m.subject) };
}

type Listener = Awaited<ReturnType<typeof listen>>;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (d: Uint8Array): string => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex');
let seq = 0;
const uniqueRoot = (): string => `c${process.pid}x${Date.now().toString(36)}x${seq++}`;

/** Registers the contract tests for one transport kind; `open` is called before each test. */
export function describeTransportContract(name: string, open: () => Promise<OpenedTransport>): void {
  describe(`Transport contract: ${name}`, () => {
    let t: Transport;
    let opened: OpenedTransport | undefined;
    let r: string;
    beforeEach(async () => {
      opened = await open();
      t = opened.transport;
      r = uniqueRoot();
    });
    afterEach(async () => {
      await opened?.cleanup();
      opened = undefined;
    });

    // publishes `subjects` in order, then waits for the `${r}.>` fence to see them all and for each listener to reach its count
    async function publishAll(subjects: string[], ...expected: [Listener, number][]): Promise<void> {
      const fence = await listen(t, `${r}.>`);
      for (const s of subjects) await t.publish(s, enc(s));
      await waitFor(() => fence.msgs.length === subjects.length && expected.every(([l, n]) => l.msgs.length >= n), 5_000, 'deliveries');
    }

    test('publish/subscribe round trip is byte-exact (binary, non-UTF-8, empty, 256 KiB, views)', async () => {
      const big = Uint8Array.from({ length: 256 * 1024 }, (_, i) => (i * 7919) % 256);
      const payloads = [enc('hello ü €'), Uint8Array.from({ length: 256 }, (_, i) => i), Uint8Array.from([0xff, 0xfe, 0xc3, 0x28, 0x00, 0x80, 0xed, 0xa0, 0x80]), new Uint8Array(0), big, big.subarray(1001, 1017)];
      const l = await listen(t, `${r}.p.*`);
      for (const [i, p] of payloads.entries()) await t.publish(`${r}.p.m${i}`, p);
      await waitFor(() => l.msgs.length === payloads.length);
      expect(l.subjects()).toEqual(payloads.map((_, i) => `${r}.p.m${i}`));
      l.msgs.forEach((m, i) => {
        expect(m.data).toBeInstanceOf(Uint8Array);
        expect(hex(m.data)).toBe(hex(payloads[i]!));
      });
    });

    test('the publisher may reuse its buffer once publish resolves', async () => {
      const l = await listen(t, `${r}.reuse`);
      const buf = Uint8Array.from([1, 2, 3, 4]);
      await t.publish(`${r}.reuse`, buf);
      buf.fill(9);
      await waitFor(() => l.msgs.length === 1);
      expect(hex(l.msgs[0]!.data)).toBe('01020304');
    });

    test("'*' matches exactly one token", async () => {
      const mid = await listen(t, `${r}.a.*.c`);
      const end = await listen(t, `${r}.a.*`);
      await publishAll(['a.b.c.d', 'x.b.c', 'a', 'a.c', 'x.b', 'a.b.c', 'a.b', 'a.zz.c', 'a.zz'].map((s) => `${r}.${s}`), [mid, 2], [end, 3]);
      expect(mid.subjects()).toEqual([`${r}.a.b.c`, `${r}.a.zz.c`]);
      expect(end.subjects()).toEqual([`${r}.a.c`, `${r}.a.b`, `${r}.a.zz`]);
    });

    test("'>' matches one or more trailing tokens, never zero", async () => {
      const l = await listen(t, `${r}.a.>`);
      await publishAll(['a', 'b.c', 'ab.c', 'a.b', 'a.b.c', 'a.b.c.d.e'].map((s) => `${r}.${s}`), [l, 3]);
      expect(l.subjects()).toEqual([`${r}.a.b`, `${r}.a.b.c`, `${r}.a.b.c.d.e`]);
    });

    test('fan-out: every subscriber gets each message exactly once, also with identical or overlapping patterns', async () => {
      const [a, b, star, rest] = [await listen(t, `${r}.x`), await listen(t, `${r}.x`), await listen(t, `${r}.*`), await listen(t, `${r}.>`)];
      for (let i = 0; i < 3; i++) await t.publish(`${r}.x`, enc(`m${i}`));
      await t.publish(`${r}.y`, enc('fence'));
      await waitFor(() => star.msgs.length === 4 && rest.msgs.length === 4 && a.msgs.length >= 3 && b.msgs.length >= 3);
      for (const l of [a, b]) expect(l.msgs.map((m) => Buffer.from(m.data).toString())).toEqual(['m0', 'm1', 'm2']);
      expect(star.subjects()).toEqual([`${r}.x`, `${r}.x`, `${r}.x`, `${r}.y`]);
    });

    test('unsubscribe stops delivery to that subscription only, and is idempotent', async () => {
      const [a, b] = [await listen(t, `${r}.u`), await listen(t, `${r}.u`)];
      await publishAll([`${r}.u`], [a, 1], [b, 1]);
      await a.sub.unsubscribe();
      await a.sub.unsubscribe();
      await publishAll([`${r}.u`], [b, 2]);
      expect(a.msgs).toHaveLength(1);
      await b.sub.unsubscribe();
      const c = await listen(t, `${r}.u`);
      await publishAll([`${r}.u`, `${r}.v`], [c, 1]);
      expect([a.msgs.length, b.msgs.length, c.msgs.length]).toEqual([1, 2, 1]);
    });

    test('escaped tokens (BTC/USD, dots, wildcards, unicode) round-trip with the same subject', async () => {
      const symbols = ['BTC/USD', 'ETH/USD:PERP', 'a.b', 'x+y#z', '*', '>', 'BTC USD', 'ü€', '~', ''];
      const l = await listen(t, rawFeedFilter('lab', 'kraken'));
      const subjects = symbols.map((symbol) => rawSubject({ env: 'lab', feed: 'kraken', type: 'trade', symbol }));
      expect(subjects[0]).toBe('lab.kraken.raw.trade.BTC~2FUSD');
      for (const [i, s] of subjects.entries()) await t.publish(s, enc(symbols[i]!));
      await waitFor(() => l.msgs.length === symbols.length);
      expect(l.subjects()).toEqual(subjects);
      expect(l.msgs.map((m) => parseRawSubject(m.subject)?.symbol)).toEqual(symbols);
      expect(l.msgs.map((m) => Buffer.from(m.data).toString())).toEqual(symbols);
    });

    test('one publisher on one subject: 1,000 messages arrive in order', async () => {
      const l = await listen(t, `${r}.seq`);
      for (let i = 0; i < 1000; i++) await t.publish(`${r}.seq`, Uint8Array.of(i >> 8, i & 0xff));
      await waitFor(() => l.msgs.length >= 1000, 15_000, '1,000 messages');
      expect(l.msgs.map((m) => (m.data[0]! << 8) | m.data[1]!)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    });

    test('retain: the latest retained value per subject reaches a late subscriber (NATS core: nothing)', async () => {
      const retains = t.kind !== 'nats';
      await t.publish(`${r}.snap.a`, enc('a1'), { retain: true });
      await t.publish(`${r}.snap.a`, enc('a2'), { retain: true });
      await t.publish(`${r}.snap.b`, enc('b1'), { retain: true });
      await t.publish(`${r}.snap.c`, enc('c1'));
      const late = await listen(t, `${r}.snap.*`);
      await t.publish(`${r}.snap.end`, enc('end'));
      await waitFor(() => late.subjects().includes(`${r}.snap.end`));
      const seen = late.msgs.map((m) => `${m.subject}=${Buffer.from(m.data).toString()}`);
      expect(seen.sort()).toEqual((retains ? [`${r}.snap.a=a2`, `${r}.snap.b=b1`] : []).concat(`${r}.snap.end=end`).sort());
      // an empty retained payload clears the retained value (MQTT rule)
      await t.publish(`${r}.snap.a`, new Uint8Array(0), { retain: true });
      const later = await listen(t, `${r}.snap.>`);
      await t.publish(`${r}.snap.end2`, enc('end'));
      await waitFor(() => later.subjects().includes(`${r}.snap.end2`));
      expect(later.subjects().sort()).toEqual((retains ? [`${r}.snap.b`] : []).concat(`${r}.snap.end2`));
    });

    test('a throwing or rejecting handler does not break delivery or the publisher', async () => {
      let calls = 0;
      await t.subscribe(`${r}.boom`, () => {
        calls++;
        throw new Error('handler bug');
      });
      await t.subscribe(`${r}.boom`, async () => Promise.reject(new Error('async handler bug')));
      const ok = await listen(t, `${r}.boom`);
      for (let i = 0; i < 3; i++) await t.publish(`${r}.boom`, enc(`m${i}`));
      await waitFor(() => ok.msgs.length === 3 && calls === 3);
      if ('handlerErrors' in t) await waitFor(() => (t as Transport & { handlerErrors: number }).handlerErrors === 6);
    });

    test('invalid subjects and patterns are rejected without harming the connection', async () => {
      for (const s of ['', 'a..b', 'a.*', 'a.>', 'a/b', 'a+b', 'a b']) await expect(t.publish(s, enc('x')), s).rejects.toThrow(/invalid subject/);
      for (const p of ['', 'a..b', 'a.>.b', 'a#']) await expect(t.subscribe(p, () => {}), p).rejects.toThrow(/invalid pattern/);
      const l = await listen(t, `${r}.still`);
      await publishAll([`${r}.still`], [l, 1]);
    });

    test('close is idempotent; publish and subscribe after close reject', async () => {
      await Promise.all([t.close(), t.close()]);
      await t.close();
      await expect(t.publish(`${r}.x`, enc('x'))).rejects.toBeInstanceOf(MiddlewareUnavailableError);
      await expect(t.subscribe(`${r}.x`, () => {})).rejects.toBeInstanceOf(MiddlewareUnavailableError);
    });
  });
}
