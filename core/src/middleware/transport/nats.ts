/**
 * NATS core pub/sub transport. `retain` is ignored: NATS core keeps nothing, so a late
 * subscriber sees only new messages; read latest values from the journal or KV instead.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { MiddlewareUnavailableError } from '../errors.js';
import type { Subscription, Transport, TransportMessage } from '../transport.js';
import { assertPattern, assertSubject, callHandler, closedError } from './memory.js';

/** Options for `openNatsTransport`. */
export interface NatsTransportOptions {
  /** One or more `nats://host:port` URLs. */
  servers: string | string[];
  user?: string;
  pass?: string;
  token?: string;
  /** Connection name shown by the server's monitoring endpoints. */
  name?: string;
  /** Give up on the first connect after this long (default 10 s). */
  timeoutMs?: number;
}

/**
 * Transport over NATS core. `subscribe` resolves after a server round trip (`flush`), so the
 * subscription is active at the server. After the first connect the client reconnects forever.
 */
export class NatsTransport implements Transport {
  readonly kind = 'nats' as const;
  private errors = 0;
  private closing: Promise<void> | undefined;

  /** Use `openNatsTransport`. */
  constructor(private readonly nc: NatsConnection) {}

  /** Handler calls that threw or rejected. */
  get handlerErrors(): number {
    return this.errors;
  }

  async publish(subject: string, data: Uint8Array, _opts?: { retain?: boolean }): Promise<void> {
    if (this.closing) throw closedError(this.kind);
    assertSubject(subject);
    this.nc.publish(subject, data);
  }

  async subscribe(pattern: string, handler: (msg: TransportMessage) => void): Promise<Subscription> {
    if (this.closing) throw closedError(this.kind);
    assertPattern(pattern);
    const sub = this.nc.subscribe(pattern, {
      callback: (err, msg) => {
        if (err === null) callHandler(handler, { subject: msg.subject, data: msg.data }, () => this.errors++);
      },
    });
    try {
      await this.nc.flush();
    } catch (err) {
      sub.unsubscribe();
      throw new MiddlewareUnavailableError('nats', `subscribe ${pattern} failed: ${String(err)}`, { cause: err });
    }
    return {
      unsubscribe: async () => {
        if (!sub.isClosed()) sub.unsubscribe();
      },
    };
  }

  close(): Promise<void> {
    this.closing ??= this.nc.isClosed() ? Promise.resolve() : this.nc.close();
    return this.closing;
  }
}

/** Connects to NATS; rejects with `MiddlewareUnavailableError` (with the reason) if the server refuses or cannot be reached. */
export async function openNatsTransport(opts: NatsTransportOptions): Promise<NatsTransport> {
  try {
    const nc = await connect({
      servers: opts.servers,
      user: opts.user,
      pass: opts.pass,
      token: opts.token,
      name: opts.name,
      timeout: opts.timeoutMs ?? 10_000,
      maxReconnectAttempts: -1,
    });
    return new NatsTransport(nc);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MiddlewareUnavailableError('nats', `cannot connect to ${String(opts.servers)}: ${reason}`, { cause: err });
  }
}
