import { SsmdError } from '../../errors.js';

/** A journal file holds bytes that are not a valid record (not a torn tail, which is repaired on open). */
export class JournalCorruptError extends SsmdError {
  constructor(readonly file: string, readonly offset: number, reason: string) {
    super(`journal file ${file} is corrupt at byte ${offset}: ${reason}; restore the file or move it aside`, { code: 'JOURNAL_CORRUPT' });
  }
}

/** A stream with `discard: 'new'` is at its size limit and refuses the publish; not retryable until space is freed. */
export class JournalFullError extends SsmdError {
  constructor(readonly stream: string, message: string, options: { cause?: unknown } = {}) {
    super(`stream ${stream} is full: ${message}`, { code: 'JOURNAL_FULL', ...options });
  }
}

/** A stream spec is invalid or conflicts with another stream. */
export class JournalSpecError extends SsmdError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'JOURNAL_SPEC', ...options });
  }
}

/** The directory is locked by another live journal instance. */
export class JournalLockedError extends SsmdError {
  constructor(dir: string, pid: number) {
    super(`journal ${dir} is in use by process ${pid}; close it there, or open it readOnly to read it`, { code: 'JOURNAL_LOCKED' });
  }
}
