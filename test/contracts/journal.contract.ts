/**
 * The behaviour every Journal implementation must share (M4, M12). Each test declares its own
 * uniquely named stream, so the suite also runs against a shared server.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalCoverageError } from '../../core/src/middleware/errors.js';
import { JournalFullError } from '../../core/src/middleware/journal/errors.js';
import type { Journal, JournalMessage, PublishAck, StreamSpec } from '../../core/src/middleware/journal.js';
import { rawFeedFilter, rawStreamName, rawSubject } from '../../core/src/middleware/subjects.js';

export interface JournalFixture {
  journal: Journal;
  cleanup: () => Promise<void>;
}

let counter = 0;
const runId = randomBytes(3).toString('hex');

/** A fresh environment name, its raw stream and subjects. */
function names() {
  const env = `ct${runId}${counter++}`;
  return {
    env,
    stream: rawStreamName(env, 'kalshi'),
    filter: rawFeedFilter(env, 'kalshi'),
    subject: (type: string, symbol: string) => rawSubject({ env, feed: 'kalshi', type, symbol }),
  };
}

function specFor(n: ReturnType<typeof names>, over: Partial<StreamSpec> = {}): StreamSpec {
  return { name: n.stream, subjects: [n.filter], maxAgeMs: 0, maxBytes: -1, discard: 'old', duplicateWindowMs: 60_000, ...over };
}

const enc = (s: string) => new TextEncoder().encode(s);
const text = (m: JournalMessage) => Buffer.from(m.data).toString('utf8');

/** Drain a bounded consume; fails the test rather than hanging if it does not end. */
async function collect(it: AsyncIterable<JournalMessage>, timeoutMs = 15_000): Promise<JournalMessage[]> {
  const out: JournalMessage[] = [];
  const run = (async () => {
    for await (const m of it) out.push(m);
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`consume did not end within ${timeoutMs} ms (got ${out.length})`)), timeoutMs);
  });
  try {
    await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** Take `count` messages from a tailing consume, then abort it and check that it ends. */
async function take(j: Journal, opts: Omit<Parameters<Journal['consume']>[0], 'signal'>, count: number, during?: () => Promise<void>): Promise<JournalMessage[]> {
  const ac = new AbortController();
  const out: JournalMessage[] = [];
  let reached!: () => void;
  const enough = new Promise<void>((r) => (reached = r));
  const run = (async () => {
    for await (const m of j.consume({ ...opts, signal: ac.signal })) {
      out.push(m);
      if (out.length === count) reached();
    }
  })();
  await during?.();
  await Promise.race([enough, run, new Promise((_, rej) => setTimeout(() => rej(new Error(`got ${out.length} of ${count}`)), 15_000))]);
  ac.abort();
  await run; // ends cleanly once aborted
  return out;
}

/** Wait until the wall clock has moved past `t` (ms). */
async function after(t: number): Promise<void> {
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, 1));
}

/** Register the shared journal contract against `open`, which returns a fresh journal per test. */
export function describeJournalContract(name: string, open: () => Promise<JournalFixture>): void {
  describe(`Journal contract: ${name}`, () => {
    let fx: JournalFixture | undefined;
    let j: Journal;

    beforeEach(async () => {
      fx = await open();
      j = fx.journal;
    });
    afterEach(async () => {
      await fx?.cleanup();
      fx = undefined;
    });

    async function publishAll(n: ReturnType<typeof names>, items: Array<[type: string, symbol: string, body: string]>): Promise<PublishAck[]> {
      const acks: PublishAck[] = [];
      for (const [type, symbol, body] of items) acks.push(await j.publish({ subject: n.subject(type, symbol), data: enc(body), msgId: `${n.env}-${body}` }));
      return acks;
    }

    it('ensureStreams is idempotent, and a changed spec updates the stream', async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      await publishAll(n, [['trade', 'A', 'one'], ['trade', 'A', 'two'], ['trade', 'A', 'three']]);
      await j.ensureStreams([specFor(n)]);
      await j.ensureStreams([specFor(n)]);
      expect(await j.info(n.stream)).toMatchObject({ name: n.stream, subjects: [n.filter], messages: 3, firstSeq: 1, lastSeq: 3 });

      const extra = `${n.env}.extra.>`;
      await j.ensureStreams([specFor(n, { subjects: [n.filter, extra], maxBytes: 32 * 1024, discard: 'new' })]);
      expect((await j.info(n.stream)).subjects.sort()).toEqual([n.filter, extra].sort());
      await j.verifyCoverage([`${n.env}.extra.anything`]);
      expect((await j.info(n.stream)).messages).toBe(3); // updating keeps the data

      // The new size limit with discard 'new' now refuses publishes.
      let refused: unknown;
      for (let i = 0; i < 100 && refused === undefined; i++) {
        await j.publish({ subject: n.subject('trade', 'B'), data: randomBytes(1024), msgId: `${n.env}-fill-${i}` }).catch((err: unknown) => (refused = err));
      }
      expect(refused).toBeInstanceOf(JournalFullError);
      const info = await j.info(n.stream);
      expect(info.messages).toBeGreaterThan(3);
      expect(info.messages).toBeLessThan(40);
    });

    it('verifyCoverage passes for covered subjects and lists every uncovered one', async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      await j.verifyCoverage([n.subject('trade', 'KXBTCD-25'), n.subject('ticker', 'X'), `${n.env}.kalshi.raw.trade.*`, n.filter]);
      const uncovered = [`${n.env}.kalshi.book.X`, `${n.env}.polymarket.raw.trade.Y`, `${n.env}.>`];
      const err = await j.verifyCoverage([n.subject('trade', 'A'), ...uncovered]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(JournalCoverageError);
      expect((err as JournalCoverageError).uncovered).toEqual(uncovered);
      for (const s of uncovered) expect((err as Error).message).toContain(s);
    });

    it('publish returns increasing sequences and refuses subjects no stream captures', async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      const acks = await publishAll(n, [['trade', 'A', 'a'], ['ticker', 'A', 'b'], ['trade', 'B', 'c'], ['trade', 'A', 'd']]);
      expect(acks).toEqual([1, 2, 3, 4].map((seq) => ({ stream: n.stream, seq, duplicate: false })));
      expect(await j.info(n.stream)).toMatchObject({ messages: 4, firstSeq: 1, lastSeq: 4 });
      await expect(j.publish({ subject: `${n.env}.nowhere.x`, data: enc('x'), msgId: 'x' })).rejects.toBeInstanceOf(JournalCoverageError);
    });

    it('a republish with the same msgId inside the window is a duplicate of the original', async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      const a = await j.publish({ subject: n.subject('trade', 'A'), data: enc('original'), msgId: 'id-a' });
      await j.publish({ subject: n.subject('trade', 'A'), data: enc('other'), msgId: 'id-b' });
      const again = await j.publish({ subject: n.subject('trade', 'A'), data: enc('retry with new bytes'), msgId: 'id-a' });
      expect(again).toEqual({ stream: n.stream, seq: a.seq, duplicate: true });
      // two concurrent publishes of one id store it once
      const [x, y] = await Promise.all([0, 1].map(() => j.publish({ subject: n.subject('trade', 'A'), data: enc('twin'), msgId: 'id-c' })));
      expect(x!.seq).toBe(y!.seq);
      expect([x!.duplicate, y!.duplicate].sort()).toEqual([false, true]);
      expect((await j.info(n.stream)).messages).toBe(3);
      const all = await collect(j.consume({ stream: n.stream, from: 'first', untilCaughtUp: true }));
      expect(all.map(text)).toEqual(['original', 'other', 'twin']);
      expect(all.map((m) => m.msgId)).toEqual(['id-a', 'id-b', 'id-c']);
    });

    it('consumes from first, from a sequence, with wildcard filters, and stops when caught up', async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      const items: Array<[string, string, string]> = Array.from({ length: 10 }, (_, i) => [i % 3 === 0 ? 'ticker' : 'trade', i % 2 ? 'A' : 'B', `m${i + 1}`]);
      await publishAll(n, items);
      const all = await collect(j.consume({ stream: n.stream, from: 'first', untilCaughtUp: true }));
      expect(all.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(all.map(text)).toEqual(items.map((i) => i[2]));
      expect(all[0]).toMatchObject({ stream: n.stream, subject: n.subject('ticker', 'B'), msgId: `${n.env}-m1`, headers: {} });
      expect(all.every((m, i) => i === 0 || m.timestamp >= all[i - 1]!.timestamp)).toBe(true);

      expect((await collect(j.consume({ stream: n.stream, from: { seq: 4 }, untilCaughtUp: true }))).map((m) => m.seq)).toEqual([4, 5, 6, 7, 8, 9, 10]);
      const trades = await collect(j.consume({ stream: n.stream, from: 'first', filter: `${n.env}.kalshi.raw.trade.*`, untilCaughtUp: true }));
      expect(trades.map((m) => m.seq)).toEqual([2, 3, 5, 6, 8, 9]);
      const tickersB = await collect(j.consume({ stream: n.stream, from: { seq: 2 }, filter: `${n.env}.*.raw.ticker.B`, untilCaughtUp: true }));
      expect(tickersB.map((m) => m.seq)).toEqual([7]); // the last match is before the last sequence: still ends
      const allByGt = await collect(j.consume({ stream: n.stream, from: 'first', filter: `${n.env}.kalshi.>`, untilCaughtUp: true }));
      expect(allByGt).toHaveLength(10);
      expect(await collect(j.consume({ stream: n.stream, from: 'first', filter: `${n.env}.kalshi.raw.nothing.*`, untilCaughtUp: true }))).toEqual([]);
      expect(await collect(j.consume({ stream: n.stream, from: 'new', untilCaughtUp: true }))).toEqual([]);
    });

    it('untilCaughtUp on an empty stream ends at once', async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      expect(await collect(j.consume({ stream: n.stream, from: 'first', untilCaughtUp: true }))).toEqual([]);
      expect(await j.info(n.stream)).toMatchObject({ messages: 0, lastSeq: 0 });
    });

    it('consumes from a time: only records stored after the instant', async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      await publishAll(n, [['trade', 'A', 'before-1'], ['trade', 'A', 'before-2']]);
      await after(Date.now());
      const mark = Date.now();
      await after(mark);
      await publishAll(n, [['trade', 'A', 'after-1'], ['trade', 'B', 'after-2']]);
      const got = await collect(j.consume({ stream: n.stream, from: { time: new Date(mark) }, untilCaughtUp: true }));
      expect(got.map(text)).toEqual(['after-1', 'after-2']);
      expect(got.every((m) => m.timestamp >= mark)).toBe(true);
    });

    it('stores bytes exactly: invalid UTF-8, empty and a 1 MiB frame', async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      const frames = [
        Uint8Array.from([0xff, 0xfe, 0xc3, 0x28, 0x00, 0xa0, 0xa1, 0xe2, 0x82, 0xed, 0xa0, 0x80]),
        new Uint8Array(0),
        enc('{"type":"trade","msg":{"price":0.51}}\r\n'),
        randomBytes(1024 * 1024),
      ];
      for (const [i, data] of frames.entries()) await j.publish({ subject: n.subject('raw', `f${i}`), data, msgId: `bytes-${i}` });
      const got = await collect(j.consume({ stream: n.stream, from: 'first', untilCaughtUp: true }));
      expect(got).toHaveLength(frames.length);
      for (const [i, data] of frames.entries()) expect(Buffer.compare(Buffer.from(got[i]!.data), Buffer.from(data))).toBe(0);
    });

    it('headers round-trip and the msgId comes back', async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      const headers = { 'Ssmd-Conn-Id': 'kalshi-0-3f2a', 'Ssmd-Recv-Ns': '1717171717123456789', 'Ssmd-Conn-Seq': '42', 'Ssmd-Shard': '0' };
      await j.publish({ subject: n.subject('trade', 'A'), data: enc('with'), msgId: 'h-1', headers });
      await j.publish({ subject: n.subject('trade', 'A'), data: enc('without'), msgId: 'h-2' });
      const [withH, withoutH] = await collect(j.consume({ stream: n.stream, from: 'first', untilCaughtUp: true }));
      expect(withH).toMatchObject({ msgId: 'h-1', headers });
      expect(withH!.headers).toEqual(headers);
      expect(withoutH).toMatchObject({ msgId: 'h-2', headers: {} });
    });

    it('a tailing consume receives messages published after it started, and abort ends it', async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      await publishAll(n, [['trade', 'A', 'old-1'], ['trade', 'A', 'old-2']]);
      let receivedOld!: () => void;
      const oldSeen = new Promise<void>((r) => (receivedOld = r));
      const ac = new AbortController();
      const got: string[] = [];
      const run = (async () => {
        for await (const m of j.consume({ stream: n.stream, from: 'first', signal: ac.signal })) {
          got.push(text(m));
          if (got.length === 2) receivedOld();
          if (got.length === 5) ac.abort();
        }
      })();
      await oldSeen;
      await publishAll(n, [['trade', 'A', 'new-1'], ['ticker', 'B', 'new-2'], ['trade', 'C', 'new-3']]);
      await run;
      expect(got).toEqual(['old-1', 'old-2', 'new-1', 'new-2', 'new-3']);
    });

    it("'new' delivers only messages published after the consume started", async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      await publishAll(n, [['trade', 'A', 'before-1'], ['trade', 'A', 'before-2']]);
      const ac = new AbortController();
      const it = j.consume({ stream: n.stream, from: 'new', signal: ac.signal })[Symbol.asyncIterator]();
      const first = it.next();
      let settled = false;
      void first.then(() => (settled = true));
      // The consume may take a moment to start at the server: keep publishing until one arrives.
      for (let i = 0; !settled && i < 200; i++) {
        await j.publish({ subject: n.subject('trade', 'A'), data: enc(`after-${i}`), msgId: `${n.env}-after-${i}` });
        await Promise.race([first, new Promise((r) => setTimeout(r, 25))]);
      }
      const r = await first;
      expect(r.done).toBe(false);
      expect(r.value!.seq).toBeGreaterThan(2);
      expect(text(r.value!)).toMatch(/^after-/);
      ac.abort();
      expect((await it.next()).done).toBe(true);
    });

    it('abort ends an idle tailing consume cleanly, and an aborted signal ends it at once', async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      await publishAll(n, [['trade', 'A', 'only']]);
      const got = await take(j, { stream: n.stream, from: 'first' }, 1);
      expect(got.map(text)).toEqual(['only']);
      const ac = new AbortController();
      ac.abort();
      expect(await collect(j.consume({ stream: n.stream, from: 'first', signal: ac.signal }), 5_000)).toEqual([]);
    });

    it('2,000 concurrent publishes are all acked with distinct, contiguous sequences', async () => {
      const n = names();
      await j.ensureStreams([specFor(n)]);
      const N = 2_000;
      const acks = await Promise.all(
        Array.from({ length: N }, (_, i) => j.publish({ subject: n.subject('trade', `S${i % 7}`), data: enc(`c${i}`), msgId: `conc-${i}` })),
      );
      expect(acks.every((a) => !a.duplicate && a.stream === n.stream)).toBe(true);
      expect(acks.map((a) => a.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      expect(await j.info(n.stream)).toMatchObject({ messages: N, firstSeq: 1, lastSeq: N });
      const got = await collect(j.consume({ stream: n.stream, from: 'first', untilCaughtUp: true }));
      expect(got.map((m) => m.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
      for (const m of got) expect(acks[Number(m.msgId!.slice(5))]!.seq).toBe(m.seq);
      expect(got.map(text).sort()).toEqual(Array.from({ length: N }, (_, i) => `c${i}`).sort());
    });
  });
}
