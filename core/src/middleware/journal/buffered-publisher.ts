import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { FindingSink } from '../findings.js';
import { MiddlewareUnavailableError } from '../errors.js';
import type { Journal, JournalRecord } from '../journal.js';

export interface BufferedPublisherOptions {
  /** Byte limit of the in-memory buffer (from the environment's profile `buffer_mb`). */
  maxBufferBytes: number;
  /** At the limit: wait for room (`block`) or continue on local disk (`spill`). */
  policy: 'block' | 'spill';
  /** Required for `spill`. */
  spillDir?: string;
  /** Byte limit of the spill file; beyond it records are dropped and a finding is recorded. */
  maxSpillBytes?: number;
  /** Publishes sent per round (default 2048); each round waits for all of its acks. */
  window?: number;
  /** First wait after a failed round (default 250 ms); doubles per failure up to `maxRetryMs`. */
  retryMs?: number;
  /** Longest wait between attempts while the journal is unavailable (default 5 s). */
  maxRetryMs?: number;
  clock: Clock;
  findings: FindingSink;
}

export interface BufferedPublisherStats {
  bufferedBytes: number;
  bufferedRecords: number;
  peakBufferedBytes: number;
  spilledRecords: number;
  spillPendingRecords: number;
  published: number;
  duplicates: number;
  dropped: number;
  failedAttempts: number;
}

interface Item {
  record: JournalRecord;
  bytes: number;
}

/**
 * Memory a buffered record really holds: its bytes, its strings (UTF-16 in V8) and the objects
 * around them. Counting only the payload let the heap grow to several times the configured limit.
 */
function sizeOf(r: JournalRecord): number {
  let strings = r.subject.length + r.msgId.length;
  let entries = 0;
  for (const k in r.headers) {
    strings += k.length + (r.headers[k]?.length ?? 0);
    entries += 1;
  }
  return r.data.byteLength + 2 * strings + 48 * entries + 256;
}

/**
 * Puts a bounded buffer in front of a journal (M15). `publish` returns once the record is
 * accepted (buffered or spilled), never waiting on the server, unless the policy is `block` and
 * the buffer is full. A pump publishes in order with a bounded window and retries with the same
 * message id while the server is down, so the stream's duplicate window removes any double
 * delivery. Nothing is dropped without a recorded finding.
 *
 * Order: records reach the journal in publish order, except across an outage, where records
 * behind a failed one in the same round may be stored before it is retried. Every raw frame
 * carries its per-connection sequence, which is the order consumers rely on.
 */
export class BufferedPublisher {
  readonly #journal: Journal;
  readonly #o: Required<Omit<BufferedPublisherOptions, 'spillDir'>> & { spillDir?: string };
  readonly #queue: Item[] = [];
  #bytes = 0;
  #spill: { path: string; fd: number; writeOffset: number; readOffset: number; pending: number; since: number; chunks: Buffer[]; chunkBytes: number } | undefined;
  #failures = 0;
  #spillSeq = 0;
  #waiters: Array<() => void> = [];
  #idle: Array<() => void> = [];
  #pumping = false;
  #closed = false;
  #limitSince: number | undefined;
  #drops: { since: number; count: number; first: string; last: string; reason: string } | undefined;
  readonly #stats: BufferedPublisherStats = {
    bufferedBytes: 0, bufferedRecords: 0, peakBufferedBytes: 0, spilledRecords: 0, spillPendingRecords: 0, published: 0, duplicates: 0, dropped: 0, failedAttempts: 0,
  };

  constructor(journal: Journal, opts: BufferedPublisherOptions) {
    if (opts.policy === 'spill' && !opts.spillDir) throw new Error('BufferedPublisher: policy spill needs spillDir');
    this.#journal = journal;
    this.#o = { window: 2048, retryMs: 250, maxRetryMs: 5_000, maxSpillBytes: 1024 * 1024 * 1024, ...opts };
  }

  /** Accept a record; see the class comment for when this waits. */
  async publish(record: JournalRecord): Promise<void> {
    if (this.#closed) throw new Error('BufferedPublisher is closed');
    const bytes = sizeOf(record);
    if (!this.#spill && this.#bytes + bytes <= this.#o.maxBufferBytes) {
      this.#queue.push({ record, bytes });
      this.#bytes += bytes;
      this.#stats.peakBufferedBytes = Math.max(this.#stats.peakBufferedBytes, this.#bytes);
    } else {
      this.#limitReached();
      if (this.#o.policy === 'block') {
        while (this.#bytes + bytes > this.#o.maxBufferBytes && this.#bytes > 0) await new Promise<void>((r) => this.#waiters.push(r));
        return this.publish(record);
      }
      this.#toSpill(record);
    }
    this.#kick();
  }

  /** Resolve when every accepted record has been acknowledged by the journal. */
  flush(): Promise<void> {
    if (this.#queue.length === 0 && !this.#spill && !this.#pumping) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  stats(): BufferedPublisherStats {
    return { ...this.#stats, bufferedBytes: this.#bytes, bufferedRecords: this.#queue.length, spillPendingRecords: this.#spill?.pending ?? 0 };
  }

  /** Flush, then refuse further publishes. */
  async close(): Promise<void> {
    await this.flush();
    this.#endDropWindow();
    this.#closed = true;
  }

  #limitReached(): void {
    if (this.#limitSince !== undefined) return;
    this.#limitSince = this.#o.clock.now();
    this.#o.findings.record({
      kind: 'buffer_limit_reached', severity: 'warning', windowStart: this.#limitSince,
      summary: `journal buffer reached its ${this.#o.maxBufferBytes} byte limit; ${this.#o.policy === 'block' ? 'publishers now wait' : 'records continue on local disk'}`,
      detail: { policy: this.#o.policy, maxBufferBytes: this.#o.maxBufferBytes },
    });
  }

  #toSpill(record: JournalRecord): void {
    if (!this.#spill) {
      mkdirSync(this.#o.spillDir!, { recursive: true });
      const path = join(this.#o.spillDir!, `spill-${process.pid}-${++this.#spillSeq}.bin`);
      this.#spill = { path, fd: openSync(path, 'w+'), writeOffset: 0, readOffset: 0, pending: 0, since: this.#o.clock.now(), chunks: [], chunkBytes: 0 };
      this.#o.findings.record({ kind: 'spill_started', severity: 'warning', windowStart: this.#spill.since, summary: `journal unavailable or slow: spilling to ${path}`, detail: { path } });
    }
    const entry = encodeSpill(record);
    const s = this.#spill;
    if (s.writeOffset + s.chunkBytes + entry.length > this.#o.maxSpillBytes) {
      this.#drop(record, `journal unavailable and spill file full (${this.#o.maxSpillBytes} bytes)`);
      return;
    }
    this.#endDropWindow();
    // Appended in 256 KiB writes: the spill path must cost little memory and few syscalls.
    s.chunks.push(entry);
    s.chunkBytes += entry.length;
    if (s.chunkBytes >= SPILL_WRITE_BYTES) this.#writeSpillChunks();
    s.pending += 1;
    this.#stats.spilledRecords += 1;
  }

  #writeSpillChunks(): void {
    const s = this.#spill;
    if (!s || s.chunkBytes === 0) return;
    const buf = s.chunks.length === 1 ? s.chunks[0]! : Buffer.concat(s.chunks, s.chunkBytes);
    writeSync(s.fd, buf, 0, buf.length, s.writeOffset);
    s.writeOffset += buf.length;
    s.chunks = [];
    s.chunkBytes = 0;
  }

  /** Count a lost record; the first loss of a window is recorded at once, the count when it closes. */
  #drop(record: JournalRecord, reason: string): void {
    this.#stats.dropped += 1;
    if (this.#drops && this.#drops.reason !== reason) this.#endDropWindow();
    if (!this.#drops) {
      this.#drops = { since: this.#o.clock.now(), count: 0, first: record.msgId, last: record.msgId, reason };
      this.#o.findings.record({
        kind: 'data_dropped', severity: 'error', windowStart: this.#drops.since,
        summary: `dropping records: ${reason}; first ${record.msgId}`, detail: { firstMsgId: record.msgId, subject: record.subject, reason },
      });
    }
    this.#drops.count += 1;
    this.#drops.last = record.msgId;
  }

  /** Close an open drop window with a finding that says how many records it lost. */
  #endDropWindow(): void {
    const d = this.#drops;
    if (!d) return;
    this.#drops = undefined;
    this.#o.findings.record({
      kind: 'data_dropped', severity: 'error', windowStart: d.since, windowEnd: this.#o.clock.now(),
      summary: `dropped ${d.count} records (${d.first} .. ${d.last}): ${d.reason}`,
      detail: { count: d.count, firstMsgId: d.first, lastMsgId: d.last, reason: d.reason },
    });
  }

  /** Move up to `room` bytes of spilled records back into the memory queue, in order. */
  #refillFromSpill(): void {
    const s = this.#spill;
    if (!s) return;
    this.#writeSpillChunks();
    const head = Buffer.alloc(4);
    while (s.readOffset < s.writeOffset && this.#bytes < this.#o.maxBufferBytes / 2) {
      readSync(s.fd, head, 0, 4, s.readOffset);
      const len = head.readUInt32BE();
      const body = Buffer.alloc(len);
      readSync(s.fd, body, 0, len, s.readOffset + 4);
      s.readOffset += len + 4;
      s.pending -= 1;
      const record = decodeSpill(body);
      this.#queue.push({ record, bytes: sizeOf(record) });
      this.#bytes += sizeOf(record);
    }
    if (s.readOffset >= s.writeOffset) {
      closeSync(s.fd);
      rmSync(s.path, { force: true });
      this.#endDropWindow();
      this.#o.findings.record({
        kind: 'spill_drained', severity: 'info', windowStart: s.since, windowEnd: this.#o.clock.now(),
        summary: `spill file drained into the journal (${this.#stats.spilledRecords} records spilled so far)`, detail: { path: s.path },
      });
      this.#spill = undefined;
    }
  }

  #kick(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        if (this.#queue.length === 0) this.#refillFromSpill();
        if (this.#queue.length === 0) break;
        // While the journal is failing, probe with one record per attempt: re-sending whole rounds
        // to a stalled server would pile them up in the client's outbound buffer.
        const batch = this.#queue.slice(0, this.#failures > 0 ? 1 : this.#o.window);
        const results = await Promise.allSettled(batch.map((i) => this.#journal.publish(i.record)));
        // Acknowledge the leading run of successes; retry from the first failure, in order.
        for (const r of results) {
          if (r.status !== 'fulfilled') continue;
          this.#stats.published += r.value.duplicate ? 0 : 1;
          this.#stats.duplicates += r.value.duplicate ? 1 : 0;
        }
        // A failure other than "unavailable" will not clear on retry (journal full, no stream for the
        // subject): that record is dropped, with a finding, instead of blocking everything behind it.
        for (let k = 0; k < results.length; k++) {
          const r = results[k]!;
          if (r.status === 'rejected' && !(r.reason instanceof MiddlewareUnavailableError)) {
            this.#drop(batch[k]!.record, (r.reason as Error)?.message ?? String(r.reason));
            results[k] = { status: 'fulfilled', value: { stream: '', seq: 0, duplicate: false } };
          }
        }
        const firstFailure = results.findIndex((r) => r.status !== 'fulfilled');
        const acked = firstFailure === -1 ? results.length : firstFailure;
        const done = this.#queue.splice(0, acked);
        for (const i of done) this.#bytes -= i.bytes;
        for (const w of this.#waiters.splice(0)) w();
        if (acked < batch.length) {
          this.#stats.failedAttempts += 1;
          // Later successes in this batch are re-sent with the same msgId: the journal dedupes them.
          await this.#o.clock.sleep(Math.min(this.#o.maxRetryMs, this.#o.retryMs * 2 ** Math.min(this.#failures, 16)));
          this.#failures += 1;
        } else {
          this.#failures = 0;
        }
        if (this.#queue.length === 0 && !this.#spill && this.#limitSince !== undefined) this.#limitSince = undefined;
      }
    } finally {
      this.#pumping = false;
      for (const r of this.#idle.splice(0)) r();
    }
  }
}

const SPILL_WRITE_BYTES = 256 * 1024;

/** Spill entry: u32 length, then u16 subject, u16 msgId, u32 headers JSON, data bytes. */
function encodeSpill(r: JournalRecord): Buffer {
  const subject = Buffer.from(r.subject);
  const msgId = Buffer.from(r.msgId);
  const headers = r.headers ? Buffer.from(JSON.stringify(r.headers)) : Buffer.alloc(0);
  const body = 2 + subject.length + 2 + msgId.length + 4 + headers.length + r.data.byteLength;
  const out = Buffer.allocUnsafe(4 + body);
  let o = out.writeUInt32BE(body, 0);
  o = out.writeUInt16BE(subject.length, o);
  o += subject.copy(out, o);
  o = out.writeUInt16BE(msgId.length, o);
  o += msgId.copy(out, o);
  o = out.writeUInt32BE(headers.length, o);
  o += headers.copy(out, o);
  out.set(r.data, o);
  return out;
}

function decodeSpill(b: Buffer): JournalRecord {
  let o = 0;
  const sl = b.readUInt16BE(o);
  const subject = b.toString('utf8', (o += 2), (o += sl));
  const ml = b.readUInt16BE(o);
  const msgId = b.toString('utf8', (o += 2), (o += ml));
  const hl = b.readUInt32BE(o);
  const headers = hl ? (JSON.parse(b.toString('utf8', (o += 4), (o += hl))) as Record<string, string>) : ((o += 4), undefined);
  return { subject, msgId, data: b.subarray(o), ...(headers ? { headers } : {}) };
}
