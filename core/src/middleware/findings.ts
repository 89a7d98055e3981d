/**
 * Where middleware and capture report data-quality findings (never silent drops). The catalog's `dq_findings`
 * table is the production sink (wired by the services); tests and the embedded mode may collect
 * them in memory.
 */
export interface MiddlewareFinding {
  /**
   * What happened. Middleware: buffer_limit_reached, spill_started, spill_drained, data_dropped.
   * Capture: gap (a disconnect window), sequence_gap, malformed_frame, unknown_message, venue_error.
   */
  kind: string;
  /** Instruments concerned, when known. */
  symbols?: string[];
  severity: 'info' | 'warning' | 'error';
  summary: string;
  /** When it started and (if over) ended, epoch ms. */
  windowStart: number;
  windowEnd?: number;
  detail: Record<string, unknown>;
}

export interface FindingSink {
  record(finding: MiddlewareFinding): void;
}

/** Keeps findings in memory (embedded mode, tests). */
export class MemoryFindingSink implements FindingSink {
  readonly findings: MiddlewareFinding[] = [];
  record(finding: MiddlewareFinding): void {
    this.findings.push(finding);
  }
}
