import type { MiddlewareFinding } from '../../../core/src/middleware/findings.js';

/** Data-quality findings the archiver reports (never silent). */
export type ArchiverFindingKind =
  /** Journal sequences were never seen: expired or purged from the stream before they were archived. */
  | 'journal_gap'
  /** A connection's `connSeq` skipped numbers: frames of that connection are missing from the journal. */
  | 'connection_gap'
  /** A connection's `connSeq` went backwards or repeated (a republish outside the duplicate window). */
  | 'connection_out_of_order'
  /** A frame arrived for a day already closed; the day's manifest is marked incomplete again. */
  | 'late_frame'
  /** A message in the raw stream lacks the raw-frame headers; archived with what the journal knows. */
  | 'not_a_raw_frame';

/**
 * A finding as the archiver records it: a MiddlewareFinding with the archiver's kinds added (the
 * core union does not list them yet), so any FindingSink, e.g. MemoryFindingSink, accepts it.
 */
export interface ArchiverFinding extends Omit<MiddlewareFinding, 'kind'> {
  kind: MiddlewareFinding['kind'] | ArchiverFindingKind;
}

export interface ArchiverFindingSink {
  record(finding: ArchiverFinding): void;
}
