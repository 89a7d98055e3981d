/**
 * The journal (M4, M12): a durable, ordered, replayable stream of raw frames. Production is NATS
 * JetStream; the embedded default is local segment files. Both pass `test/contracts/journal.contract.ts`.
 */

/** A stream declared with explicit limits (created or updated declaratively). */
export interface StreamSpec {
  name: string;
  /** Subjects (wildcards allowed) the stream captures. */
  subjects: string[];
  /** Drop messages older than this; 0 = unlimited. */
  maxAgeMs: number;
  /** Size bound of the stream; -1 = unlimited. */
  maxBytes: number;
  /** At the size bound: drop the oldest (`old`) or refuse new messages (`new`). */
  discard: 'old' | 'new';
  /** A publish with a message id seen within this window is a duplicate and is not stored again. */
  duplicateWindowMs: number;
}

export interface JournalRecord {
  subject: string;
  data: Uint8Array;
  /** De-duplication id; a replayed publish with the same id inside the window is not stored twice. */
  msgId: string;
  headers?: Record<string, string>;
}

export interface PublishAck {
  stream: string;
  /** Journal sequence of the stored message (of the original, for a duplicate). */
  seq: number;
  duplicate: boolean;
}

export interface JournalMessage {
  stream: string;
  subject: string;
  data: Uint8Array;
  /** Journal sequence, 1-based, strictly increasing within the stream. */
  seq: number;
  /** When the journal stored it, epoch ms. */
  timestamp: number;
  msgId?: string;
  headers: Record<string, string>;
}

/** Where a consumer starts. */
export type StartAt = { seq: number } | { time: Date } | 'first' | 'new';

export interface ConsumeOptions {
  stream: string;
  /** Only subjects matching this pattern. */
  filter?: string;
  from: StartAt;
  /** Stop after the message that was last when consuming started (a bounded replay) instead of tailing. */
  untilCaughtUp?: boolean;
  signal?: AbortSignal;
}

export interface StreamInfo {
  name: string;
  subjects: string[];
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
}

export interface Journal {
  readonly kind: 'jetstream' | 'local';
  /** Create or update each stream to match its spec. */
  ensureStreams(specs: readonly StreamSpec[]): Promise<void>;
  /** Fail fast (JournalCoverageError listing them) unless every subject is captured by some stream. */
  verifyCoverage(subjects: readonly string[]): Promise<void>;
  publish(record: JournalRecord): Promise<PublishAck>;
  /** Messages in journal order from `from`; ends when aborted (or caught up, if asked). */
  consume(opts: ConsumeOptions): AsyncIterable<JournalMessage>;
  info(stream: string): Promise<StreamInfo>;
  close(): Promise<void>;
}
