import type { Logger } from '../../../core/src/log/logger.js';
import type { Clock } from '../../../core/src/middleware/clock.js';
import type { FindingSink } from '../../../core/src/middleware/findings.js';
import type { BufferedPublisher } from '../../../core/src/middleware/journal/buffered-publisher.js';
import { toJournalRecord, type RawFrame } from '../../raw/src/frame.js';
import type { Classification } from '../../venues/src/classification.js';
import type { FeedEvent } from '../../venues/src/ws-feed-base.js';

/** Counters of one shard, exported as Prometheus metrics. */
export interface CaptureStats {
  frames: number;
  bytes: number;
  byKind: Record<Classification['kind'], number>;
  connects: number;
  disconnects: number;
  sequenceGaps: number;
  lastFrameAt: number | null;
}

export function newCaptureStats(): CaptureStats {
  return { frames: 0, bytes: 0, byKind: { data: 0, control: 0, heartbeat: 0, error: 0, unknown: 0, malformed: 0 }, connects: 0, disconnects: 0, sequenceGaps: 0, lastFrameAt: null };
}

export interface CaptureShardOptions {
  env: string;
  feed: string;
  shard: number;
  events: AsyncIterable<FeedEvent>;
  classify: (bytes: Uint8Array) => Classification;
  publisher: BufferedPublisher;
  findings: FindingSink;
  clock: Clock;
  stats?: CaptureStats;
  /** Malformed/unknown frames are reported once per kind and type per window of this length (default 60 s), with a count. */
  reportWindowMs?: number;
  /** Structured log of connection events (JSON lines; secrets redacted). */
  log?: Logger;
}

/**
 * Publish every frame of one connector shard to the journal, byte-exact, with its receive time,
 * connection and sequence; turn disconnect windows, exchange sequence gaps, venue errors and
 * malformed or unknown frames into findings. Malformed frames are still journaled: raw is kept
 * whatever it is. Returns when the feed's event stream ends (on abort).
 */
export async function captureShard(o: CaptureShardOptions): Promise<CaptureStats> {
  const stats = o.stats ?? newCaptureStats();
  const windowMs = o.reportWindowMs ?? 60_000;
  let down: { conn: string; at: number; reason: string } | undefined;
  const odd = new Map<string, { since: number; count: number; sample: string; symbols: Set<string> }>();

  const flushOdd = (force: boolean) => {
    const now = o.clock.now();
    for (const [key, w] of odd) {
      if (!force && now - w.since < windowMs) continue;
      odd.delete(key);
      const [kind, type] = key.split('\u0000') as [string, string];
      o.findings.record({
        kind: kind === 'malformed' ? 'malformed_frame' : 'unknown_message', severity: 'warning', windowStart: w.since, windowEnd: now,
        summary: `${w.count} ${kind} frame(s) of type ${type} on ${o.feed} shard ${o.shard}: ${w.sample}`,
        detail: { count: w.count, type, sample: w.sample, shard: o.shard }, symbols: [...w.symbols].filter((s) => s !== '_').slice(0, 50),
      });
    }
  };

  for await (const ev of o.events) {
    switch (ev.kind) {
      case 'frame': {
        const c = o.classify(ev.bytes);
        const frame: RawFrame = { env: o.env, feed: o.feed, shard: o.shard, conn: ev.conn, connSeq: ev.connSeq, recvNs: ev.recvNs, type: c.type, symbol: c.symbol, bytes: ev.bytes };
        await o.publisher.publish(toJournalRecord(frame));
        stats.frames += 1;
        stats.bytes += ev.bytes.length;
        stats.byKind[c.kind] += 1;
        stats.lastFrameAt = o.clock.now();
        if (c.kind === 'malformed' || c.kind === 'unknown') {
          const key = `${c.kind}\u0000${c.type}`;
          const w = odd.get(key) ?? { since: o.clock.now(), count: 0, sample: c.detail ?? '', symbols: new Set<string>() };
          w.count += 1;
          w.symbols.add(c.symbol);
          odd.set(key, w);
        }
        if (stats.frames % 1000 === 0) flushOdd(false);
        break;
      }
      case 'connected':
        stats.connects += 1;
        o.log?.info('connected', { feed: o.feed, shard: o.shard, conn: ev.conn });
        if (down) {
          o.findings.record({
            kind: 'gap', severity: 'error', windowStart: down.at, windowEnd: ev.at,
            summary: `${o.feed} shard ${o.shard} disconnected for ${((ev.at - down.at) / 1000).toFixed(1)} s (${down.reason}); frames sent meanwhile were not received`,
            detail: { shard: o.shard, fromConn: down.conn, toConn: ev.conn, reason: down.reason },
          });
          down = undefined;
        }
        break;
      case 'disconnected':
        // reconnectInMs is null only for our own shutdown: that ends capture, it is not a gap.
        if (ev.reconnectInMs === null) break;
        stats.disconnects += 1;
        o.log?.warn('disconnected', { feed: o.feed, shard: o.shard, conn: ev.conn, reason: ev.reason, reconnectInMs: ev.reconnectInMs });
        down ??= { conn: ev.conn, at: ev.at, reason: ev.reason };
        break;
      case 'gap':
        stats.sequenceGaps += 1;
        o.log?.warn('sequence gap', { feed: o.feed, shard: o.shard, conn: ev.conn, sid: ev.sid, expected: ev.expected, got: ev.got });
        o.findings.record({
          kind: 'sequence_gap', severity: 'error', windowStart: ev.at,
          summary: `${o.feed} sid ${ev.sid}: expected seq ${ev.expected}, got ${ev.got} (${ev.got - ev.expected} messages missing)`,
          detail: { conn: ev.conn, sid: ev.sid, expected: ev.expected, got: ev.got, shard: o.shard },
        });
        break;
      case 'error':
        o.log?.warn('venue error', { feed: o.feed, shard: o.shard, conn: ev.conn, message: ev.message });
        o.findings.record({ kind: 'venue_error', severity: 'warning', windowStart: o.clock.now(), summary: ev.message.slice(0, 300), detail: { conn: ev.conn, shard: o.shard } });
        break;
    }
  }
  flushOdd(true);
  if (down) {
    o.findings.record({
      kind: 'gap', severity: 'error', windowStart: down.at, windowEnd: o.clock.now(),
      summary: `${o.feed} shard ${o.shard} stopped while disconnected (${down.reason})`, detail: { shard: o.shard, fromConn: down.conn, reason: down.reason },
    });
  }
  return stats;
}
