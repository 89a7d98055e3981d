import type { SimConnection, VenueSession } from '../common/connection.js';
import type { PolymarketGenerator } from './generator.js';
import { INVALID_OPERATION, MAX_ASSETS_PER_CONNECTION, PING, PONG, TOO_MANY_ASSETS, arrayFrame } from './protocol.js';

/** Share of initial snapshots sent without `event_type`, as some real ones are (protocols.md). */
const BOOK_WITHOUT_EVENT_TYPE = 0.1;

interface SubscribeMessage {
  assets: string[];
  operation: 'subscribe' | 'unsubscribe';
  custom: boolean | undefined;
}

/**
 * One market-channel connection. No acks: the first `{"assets_ids":[...],"type":"market"}` (or a later
 * `{"assets_ids":[...],"operation":"subscribe"|"unsubscribe"}`) starts or stops the assets' streams, and the new
 * assets' `book`s arrive at once in one array frame. Text `PING` is answered with `PONG`.
 */
export class PolymarketSession implements VenueSession {
  private assets: string[] = [];
  private custom = false;
  private subscribed = false;
  private lastPing = performance.now();

  constructor(private readonly conn: SimConnection, private readonly gen: PolymarketGenerator, pingTimeoutMs: number) {
    conn.every(Math.max(10, Math.min(1000, pingTimeoutMs / 4)), () => {
      // A client that stops sending PING is dropped without a close frame, like an idle timeout (our choice).
      if (performance.now() - this.lastPing > pingTimeoutMs) conn.terminate();
    });
  }

  onMessage(text: string): void {
    if (text === PING) {
      this.lastPing = performance.now();
      return this.conn.control(PONG);
    }
    const msg = parseSubscribe(text);
    if (msg === undefined) return this.conn.control(INVALID_OPERATION);
    if (msg.custom !== undefined) this.custom = msg.custom;
    if (msg.operation === 'unsubscribe') {
      this.assets = this.assets.filter((a) => !msg.assets.includes(a));
      return;
    }
    const added = [...new Set(msg.assets)].filter((a) => !this.assets.includes(a));
    if (this.conn.takeSubscriptionRefusal() || this.assets.length + added.length > MAX_ASSETS_PER_CONNECTION) {
      return this.conn.closeWith(TOO_MANY_ASSETS.code, TOO_MANY_ASSETS.reason);
    }
    this.subscribed = true;
    this.assets.push(...added);
    if (added.length > 0 && !this.conn.replaying) {
      this.conn.data(arrayFrame(added.map((a) => this.gen.book(a, !this.gen.rng.chance(BOOK_WITHOUT_EVENT_TYPE)))));
    }
  }

  nextFrame(): string | undefined {
    return this.gen.next(this.assets, this.custom);
  }

  /** Replay: every line as it is, once the client has subscribed. */
  replayFrame(line: string): string | 'wait' {
    return this.subscribed ? line : 'wait';
  }
}

function parseSubscribe(text: string): SubscribeMessage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const ids = o.assets_ids;
  if (!Array.isArray(ids) || !ids.every((x): x is string => typeof x === 'string')) return undefined;
  const op = o.operation ?? (typeof o.type === 'string' && o.type.toLowerCase() === 'market' ? 'subscribe' : undefined);
  if (op !== 'subscribe' && op !== 'unsubscribe') return undefined;
  return { assets: ids, operation: op, custom: typeof o.custom_feature_enabled === 'boolean' ? o.custom_feature_enabled : undefined };
}
