import { SsmdError } from '../../../core/src/errors.js';

/** Options given to the archiver are unusable (bad env/feed name, bad limits). */
export class ArchiverConfigError extends SsmdError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(`archiver: ${message}`, { code: 'ARCHIVER_CONFIG', ...options });
  }
}

/**
 * Block storage or the checkpoint disagree in a way the archiver must not paper over (a committed
 * file is shorter than its checkpoint says, the checkpoint is unreadable, the stream was recreated
 * with lower sequences). Fatal: an operator decides.
 */
export class ArchiverStateError extends SsmdError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(`archiver: ${message}`, { code: 'ARCHIVER_STATE', ...options });
  }
}

/** The archiver is busy (run and catchUp at once) or closed. */
export class ArchiverBusyError extends SsmdError {
  constructor(message: string) {
    super(`archiver: ${message}`, { code: 'ARCHIVER_BUSY' });
  }
}
