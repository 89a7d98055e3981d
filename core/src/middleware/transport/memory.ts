/**
 * In-process transport: the embedded default and the reference for the transport contract.
 * It also holds the small checks every transport shares, so the kinds agree on what a valid
 * subject or pattern is.
 */
import { SsmdError } from '../../errors.js';
import { subjectMatches } from '../subjects.js';
import { MiddlewareUnavailableError } from '../errors.js';
import type { Subscription, Transport, TransportMessage } from '../transport.js';

type Handler = (msg: TransportMessage) => void;

const TOKEN = /^[^\s/+#*>]+$/;

function invalid(what: string, value: string, rule: string): SsmdError {
  return new SsmdError(`invalid ${what} '${value}': ${rule}`, { code: 'INVALID_SUBJECT' });
}

/** Throws unless `subject` is a concrete subject: non-empty tokens, no wildcards, no '/', '+', '#' or spaces. */
export function assertSubject(subject: string): void {
  if (!subject.split('.').every((t) => TOKEN.test(t))) {
    throw invalid('subject', subject, "tokens must be non-empty with no wildcards, '/', '+', '#' or spaces");
  }
}

/** Throws unless `pattern` is a valid subscription pattern: like a subject, plus `*` tokens and a final `>`. */
export function assertPattern(pattern: string): void {
  const tokens = pattern.split('.');
  const ok = tokens.every((t, i) => TOKEN.test(t) || t === '*' || (t === '>' && i === tokens.length - 1));
  if (!ok) throw invalid('pattern', pattern, "tokens must be non-empty, '*' or a final '>'");
}

/**
 * Calls a handler so that it cannot break the caller: a throw, or a rejection from an async
 * handler, is passed to `onError` instead.
 */
export function callHandler(handler: Handler, msg: TransportMessage, onError: (err: unknown) => void): void {
  try {
    const result: unknown = handler(msg);
    if (result instanceof Promise) result.catch(onError);
  } catch (err) {
    onError(err);
  }
}

/** The error every transport raises when used after `close()`. */
export function closedError(kind: string): MiddlewareUnavailableError {
  return new MiddlewareUnavailableError(kind, 'transport is closed');
}

interface MemorySub {
  pattern: string;
  handler: Handler;
  active: boolean;
}

/**
 * In-process fan-out with NATS wildcard matching. Handlers run in microtasks, in publish order,
 * so a slow or throwing handler never blocks or breaks `publish`; errors are counted in
 * `handlerErrors`. Data is copied once per publish, so the publisher may reuse its buffer.
 * `retain` keeps the latest message per subject and replays matching ones to each new
 * subscription; as in MQTT, an empty retained payload clears the subject's retained value.
 */
export class MemoryTransport implements Transport {
  readonly kind = 'memory' as const;
  private readonly subs = new Set<MemorySub>();
  private readonly retained = new Map<string, TransportMessage>();
  private errors = 0;
  private closed = false;

  /** Handler calls that threw or rejected. */
  get handlerErrors(): number {
    return this.errors;
  }

  async publish(subject: string, data: Uint8Array, opts: { retain?: boolean } = {}): Promise<void> {
    if (this.closed) throw closedError(this.kind);
    assertSubject(subject);
    const msg: TransportMessage = { subject, data: data.slice() };
    if (opts.retain === true) {
      if (data.byteLength === 0) this.retained.delete(subject);
      else this.retained.set(subject, msg);
    }
    for (const sub of this.subs) {
      if (subjectMatches(sub.pattern, subject)) this.deliver(sub, msg);
    }
  }

  async subscribe(pattern: string, handler: Handler): Promise<Subscription> {
    if (this.closed) throw closedError(this.kind);
    assertPattern(pattern);
    const sub: MemorySub = { pattern, handler, active: true };
    for (const msg of this.retained.values()) {
      if (subjectMatches(pattern, msg.subject)) this.deliver(sub, msg);
    }
    this.subs.add(sub);
    return {
      unsubscribe: async () => {
        sub.active = false;
        this.subs.delete(sub);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const sub of this.subs) sub.active = false;
    this.subs.clear();
    this.retained.clear();
  }

  private deliver(sub: MemorySub, msg: TransportMessage): void {
    queueMicrotask(() => {
      if (sub.active) callHandler(sub.handler, msg, () => this.errors++);
    });
  }
}
