/**
 * Named error classes shared by every package. Each sets `name`, takes `{ cause }`,
 * and carries a stable `code` so the CLI and MCP layers can map errors to exit codes
 * and tool results without string matching.
 */
export class SsmdError extends Error {
  readonly code: string;
  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 'SSMD_ERROR';
  }
}

/** One precise problem in a configuration file. */
export interface ConfigIssue {
  /** File the problem is in (absolute or as given). */
  file: string;
  /** 1-based line and column, when the position is known. */
  line?: number;
  col?: number;
  /** Dotted/bracketed path into the document, e.g. `feeds[1].channels[0]`; `` for the root. */
  path: string;
  /** What was expected, in words. */
  expected: string;
  /** What was found, rendered short (JSON for scalars). */
  got: string;
}

export function formatConfigIssue(i: ConfigIssue): string {
  const pos = i.line !== undefined ? `:${i.line}:${i.col ?? 1}` : '';
  return `${i.file}${pos} ${i.path || '(root)'}: expected ${i.expected}, got ${i.got}`;
}

/** A configuration error: fails fast, before any side effect. Exit code 2 in the CLI. */
export class ConfigError extends SsmdError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options: { cause?: unknown } = {}) {
    super(issues.map(formatConfigIssue).join('\n'), { code: 'CONFIG_INVALID', ...options });
    this.issues = issues;
  }
}

/** A requested thing does not exist (environment, key, revision...). */
export class NotFoundError extends SsmdError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'NOT_FOUND', ...options });
  }
}

/** The caller may not do this (missing scope, revoked key, wrong master key). */
export class AuthError extends SsmdError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { code: 'UNAUTHORIZED', ...options });
  }
}
