import { SsmdError } from '../errors.js';

/** A subject the environment will publish is not captured by any stream. */
export class JournalCoverageError extends SsmdError {
  constructor(readonly uncovered: readonly string[]) {
    super(`no stream captures ${uncovered.join(', ')}; declare a stream for it before publishing`, { code: 'JOURNAL_COVERAGE' });
  }
}

/** The middleware server cannot be reached or refused the operation; retryable. */
export class MiddlewareUnavailableError extends SsmdError {
  constructor(readonly component: string, message: string, options: { cause?: unknown } = {}) {
    super(`${component}: ${message}`, { code: 'MIDDLEWARE_UNAVAILABLE', ...options });
  }
}

/** A stored object does not match what was uploaded (size or checksum). */
export class IntegrityError extends SsmdError {
  constructor(message: string) {
    super(message, { code: 'INTEGRITY' });
  }
}
