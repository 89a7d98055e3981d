import type { Kysely } from 'kysely';
import type { FindingSink, MiddlewareFinding } from '../../../core/src/middleware/findings.js';
import type { Database } from '../database.js';
import { recordFinding } from './finding.repository.js';

/**
 * Writes middleware findings into the catalog. `record` is synchronous for the hot path, so
 * writes are queued and performed in order in the background; `flush` waits for them. A write
 * that fails is kept in `failed` (and retried by `flush`), never silently lost.
 */
export class CatalogFindingSink implements FindingSink {
  #chain: Promise<void> = Promise.resolve();
  readonly failed: MiddlewareFinding[] = [];

  constructor(private readonly db: Kysely<Database>, private readonly scope: { feed: string; source: string; runId?: string }) {}

  record(f: MiddlewareFinding): void {
    this.#chain = this.#chain.then(() => this.#write(f));
  }

  async #write(f: MiddlewareFinding): Promise<void> {
    try {
      await recordFinding(this.db, {
        feed: this.scope.feed, day: new Date(f.windowStart).toISOString().slice(0, 10), kind: f.kind, severity: f.severity, summary: f.summary,
        windowStart: new Date(f.windowStart), ...(f.windowEnd !== undefined ? { windowEnd: new Date(f.windowEnd) } : {}),
        detail: f.detail, source: this.scope.source, ...(f.symbols ? { symbols: f.symbols } : {}), ...(this.scope.runId ? { runId: this.scope.runId } : {}),
      });
    } catch {
      this.failed.push(f);
    }
  }

  /** Wait for queued writes, retrying earlier failures once more. */
  async flush(): Promise<void> {
    await this.#chain;
    for (const f of this.failed.splice(0)) await this.#write(f);
  }
}
