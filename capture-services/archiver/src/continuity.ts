/**
 * Continuity of what the archiver reads: journal sequences of one feed's stream are contiguous, and
 * each connection numbers its frames 1, 2, 3... A hole in either is a finding and a gap entry in the
 * manifest of every day it may have lost frames from. Connection state is part of the checkpoint,
 * so a restart neither misses nor invents a gap.
 */
import type { RawFrame } from '../../raw/src/frame.js';
import type { ArchiverFinding } from './findings.js';
import { daysBetween, utcDay } from './layout.js';
import type { ManifestOp } from './manifest.js';

/** Connections silent for this long (in receive time) are forgotten; a later frame on one counts as a new connection. */
const FORGET_NS = 48n * 3_600_000_000_000n;
const NS_PER_MS = 1_000_000n;

export interface ContinuityOptions {
  env: string;
  feed: string;
  stream: string;
  record: (f: ArchiverFinding) => void;
  /** Connection state from the checkpoint. */
  conns?: Record<string, { lastSeq: number; lastRecvNs: string }>;
}

export class Continuity {
  readonly #o: ContinuityOptions;
  readonly #conns = new Map<string, { lastSeq: number; lastRecvNs: bigint }>();
  readonly counts = { journalGaps: 0, missingMessages: 0, connectionGaps: 0 };

  constructor(o: ContinuityOptions) {
    this.#o = o;
    for (const [conn, c] of Object.entries(o.conns ?? {})) this.#conns.set(conn, { lastSeq: c.lastSeq, lastRecvNs: BigInt(c.lastRecvNs) });
  }

  /** Journal sequences `from`..`to` never arrived (expired or purged before archiving). */
  journalGap(from: number, to: number, afterRecvNs: bigint | undefined, beforeRecvNs: bigint): ManifestOp[] {
    const missing = to - from + 1;
    this.counts.journalGaps++;
    this.counts.missingMessages += missing;
    const gap = { kind: 'journal' as const, fromJournalSeq: from, toJournalSeq: to, missing, afterRecvNs: afterRecvNs?.toString() ?? null, beforeRecvNs: beforeRecvNs.toString() };
    const days = gapDays(afterRecvNs, beforeRecvNs);
    this.#o.record({
      kind: 'journal_gap', severity: 'error',
      summary: `${this.#what()}: journal sequences ${from}-${to} (${missing} messages) of stream ${this.#o.stream} were gone before they were archived (expired or purged)`,
      windowStart: nsToMs(afterRecvNs ?? beforeRecvNs), windowEnd: nsToMs(beforeRecvNs),
      detail: { env: this.#o.env, feed: this.#o.feed, stream: this.#o.stream, fromJournalSeq: from, toJournalSeq: to, missing, days },
    });
    return days.map((day) => ({ op: 'gap', day, gap }));
  }

  /** Check a frame's place in its connection's sequence and remember it. */
  frame(frame: RawFrame, journalSeq: number): ManifestOp[] {
    const c = this.#conns.get(frame.conn);
    const expected = c === undefined ? 1 : c.lastSeq + 1;
    this.#conns.set(frame.conn, { lastSeq: Math.max(frame.connSeq, c?.lastSeq ?? 0), lastRecvNs: frame.recvNs });
    if (frame.connSeq < expected) {
      this.#o.record({
        kind: 'connection_out_of_order', severity: 'warning',
        summary: `${this.#what()}: connection ${frame.conn} sent connSeq ${frame.connSeq} after ${expected - 1} (journal seq ${journalSeq}); archived as received`,
        windowStart: nsToMs(frame.recvNs), detail: { conn: frame.conn, connSeq: frame.connSeq, previous: expected - 1, journalSeq },
      });
    }
    if (frame.connSeq <= expected) return [];
    const missing = frame.connSeq - expected;
    this.counts.connectionGaps++;
    const gap = {
      kind: 'connection' as const, conn: frame.conn, fromConnSeq: expected, toConnSeq: frame.connSeq - 1, missing, journalSeq,
      afterRecvNs: c?.lastRecvNs.toString() ?? null, beforeRecvNs: frame.recvNs.toString(),
    };
    const days = gapDays(c?.lastRecvNs, frame.recvNs);
    this.#o.record({
      kind: 'connection_gap', severity: 'error',
      summary: `${this.#what()}: connection ${frame.conn} skipped connSeq ${expected}-${frame.connSeq - 1} (${missing} frames) before journal seq ${journalSeq}`,
      windowStart: nsToMs(c?.lastRecvNs ?? frame.recvNs), windowEnd: nsToMs(frame.recvNs),
      detail: { env: this.#o.env, feed: this.#o.feed, conn: frame.conn, fromConnSeq: expected, toConnSeq: frame.connSeq - 1, missing, journalSeq, days },
    });
    return days.map((day) => ({ op: 'gap', day, gap }));
  }

  /** State for the checkpoint, forgetting connections silent for 48 h before `latestNs`. */
  snapshot(latestNs: bigint | undefined): Record<string, { lastSeq: number; lastRecvNs: string }> {
    if (latestNs !== undefined) for (const [conn, c] of this.#conns) if (c.lastRecvNs < latestNs - FORGET_NS) this.#conns.delete(conn);
    return Object.fromEntries([...this.#conns].map(([conn, c]) => [conn, { lastSeq: c.lastSeq, lastRecvNs: c.lastRecvNs.toString() }]));
  }

  #what(): string {
    return `archive ${this.#o.env}/${this.#o.feed}`;
  }
}

/** Days a gap between two receive times may have lost frames from (the day of each end and any between). */
function gapDays(afterNs: bigint | undefined, beforeNs: bigint): string[] {
  const a = utcDay(afterNs ?? beforeNs);
  const b = utcDay(beforeNs);
  return a <= b ? daysBetween(a, b) : daysBetween(b, a);
}

function nsToMs(ns: bigint): number {
  return Number(ns / NS_PER_MS);
}
