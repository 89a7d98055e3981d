/**
 * Scrubs secrets from any text before it is logged or printed. Every secret the process decrypts
 * is registered here; well-known secret shapes (PEM private keys, ssmd API tokens, Linear keys)
 * are scrubbed even when they were never registered.
 */
export class Redactor {
  readonly #values = new Map<string, string>();

  /** Register a decrypted secret under a label (its key name). Short values are ignored. */
  register(secret: string | Buffer, label: string): void {
    const text = typeof secret === 'string' ? secret : secret.toString('utf8');
    if (text.length < 6) return;
    this.#values.set(text, label);
    this.#values.set(JSON.stringify(text).slice(1, -1), label); // as it appears inside a JSON log line
    // Also scrub each line of multi-line secrets (e.g. PEM bodies printed piecewise).
    for (const line of text.split(/\r?\n/)) if (line.length >= 16) this.#values.set(line, label);
  }

  redact(text: string): string {
    let out = text;
    // Longest first so a whole secret is replaced before any of its lines.
    for (const [value, label] of [...this.#values].sort((a, b) => b[0].length - a[0].length)) {
      if (out.includes(value)) out = out.split(value).join(`[REDACTED:${label}]`);
    }
    return out
      .replace(/-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g, '[REDACTED:private-key]')
      .replace(/\bssmd_([a-z0-9]{12})_[A-Za-z0-9_-]{16,}/g, 'ssmd_$1_[REDACTED]')
      .replace(/\blin_(api|oauth)_[A-Za-z0-9]{8,}/g, 'lin_$1_[REDACTED]');
  }
}

/** The process-wide redactor used by the logger and the CLI's output. */
export const redactor = new Redactor();
