/**
 * The production journal on NATS JetStream. Streams are file-backed with explicit limits; the
 * connection reconnects forever with capped exponential backoff, and publishes fail fast with
 * MiddlewareUnavailableError while it is down (callers retry with the same msgId, which the
 * stream's duplicate window makes safe).
 */
import { DeliverPolicy, DiscardPolicy, JetStreamApiError, jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager, JsMsg, OrderedConsumerOptions, PubAck, StreamConfig } from '@nats-io/jetstream';
import { connect, errors, headers as natsHeaders, nanos } from '@nats-io/transport-node';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { NotFoundError } from '../../errors.js';
import { RealClock, type Clock } from '../clock.js';
import { JournalCoverageError, MiddlewareUnavailableError } from '../errors.js';
import type { ConsumeOptions, Journal, JournalMessage, JournalRecord, PublishAck, StreamInfo, StreamSpec } from '../journal.js';
import { JournalFullError } from './errors.js';
import { assertCovered, effectiveDuplicateWindowMs, validateStreamSpecs } from './streams.js';

/** Options for `openJetStreamJournal`. */
export interface JetStreamJournalOptions {
  servers: string | string[];
  user?: string;
  pass?: string;
  token?: string;
  /** Connection name shown by the server's monitoring endpoints. */
  name?: string;
  /** Publishes awaiting their ack at once; more wait their turn (default 1000). */
  maxInFlight?: number;
  /** A publish fails with MiddlewareUnavailableError after this long without an ack (default 5 s). */
  publishTimeoutMs?: number;
  /** Give up on the first connect after this long (default 10 s). */
  connectTimeoutMs?: number;
  clock?: Clock;
}

const COMPONENT = 'jetstream';
const MSG_ID = 'Nats-Msg-Id';
const CONSUME_BATCH = 1000;

/** Journal on NATS JetStream. */
export class JetStreamJournal implements Journal {
  readonly kind = 'jetstream' as const;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #slots: Semaphore;
  readonly #timeoutMs: number;
  readonly #backoff: Backoff;
  #connected = true;
  /** Rejecters of the publishes awaiting an ack: a dropped connection fails them at once. */
  readonly #pending = new Set<(err: unknown) => void>();
  #closing: Promise<void> | undefined;
  /** Accepted for parity with the local journal; JetStream stamps messages with the server's clock. */
  readonly clock: Clock;

  /** Use `openJetStreamJournal`. */
  constructor(nc: NatsConnection, jsm: JetStreamManager, opts: JetStreamJournalOptions, backoff: Backoff) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#backoff = backoff;
    this.clock = opts.clock ?? new RealClock();
    this.#js = jetstream(nc);
    this.#slots = new Semaphore(opts.maxInFlight ?? 1000);
    this.#timeoutMs = opts.publishTimeoutMs ?? 5_000;
    this.#watchStatus().catch(() => {});
  }

  async ensureStreams(specs: readonly StreamSpec[]): Promise<void> {
    validateStreamSpecs(specs);
    for (const spec of specs) {
      const cfg = toConfig(spec);
      try {
        const current = await this.#jsm.streams.info(spec.name).catch((err: unknown) => {
          if (err instanceof JetStreamApiError && err.code === 10059) return undefined; // stream not found
          throw err;
        });
        if (!current) await this.#jsm.streams.add(cfg);
        else if (differs(current.config, cfg)) await this.#jsm.streams.update(spec.name, cfg);
      } catch (err) {
        throw this.#unavailable(err, `ensuring stream ${spec.name}`);
      }
    }
  }

  async verifyCoverage(subjects: readonly string[]): Promise<void> {
    const captured: string[] = [];
    try {
      for await (const si of this.#jsm.streams.list()) captured.push(...(si.config.subjects ?? []));
    } catch (err) {
      throw this.#unavailable(err, 'listing streams');
    }
    assertCovered(captured, subjects);
  }

  async publish(rec: JournalRecord): Promise<PublishAck> {
    if (this.#closing) throw new MiddlewareUnavailableError(COMPONENT, 'journal is closed');
    if (!this.#slots.tryAcquire()) await this.#slots.acquire();
    try {
      if (!this.#connected) throw new MiddlewareUnavailableError(COMPONENT, `disconnected; retry ${rec.subject} with msgId ${rec.msgId}`);
      const opts: { msgID?: string; headers?: MsgHdrs; timeout: number } = { timeout: this.#timeoutMs };
      if (rec.msgId !== '') opts.msgID = rec.msgId;
      if (rec.headers && Object.keys(rec.headers).length > 0) {
        const h = natsHeaders();
        for (const [k, v] of Object.entries(rec.headers)) h.set(k, v);
        opts.headers = h;
      }
      const ack = await new Promise<PubAck>((resolve, reject) => {
        this.#pending.add(reject);
        this.#js.publish(rec.subject, rec.data, opts).then(
          (a) => {
            this.#pending.delete(reject);
            resolve(a);
          },
          (err: unknown) => {
            this.#pending.delete(reject);
            reject(err);
          },
        );
      });
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw await this.#publishError(err, rec);
    } finally {
      this.#slots.release();
    }
  }

  consume(opts: ConsumeOptions): AsyncIterable<JournalMessage> {
    return this.#consume(opts);
  }

  async *#consume(opts: ConsumeOptions): AsyncGenerator<JournalMessage> {
    const { signal, untilCaughtUp } = opts;
    if (signal?.aborted) return;
    const lastSeq = (await this.info(opts.stream)).lastSeq;
    if (untilCaughtUp && opts.from === 'new') return;
    const oc: Partial<OrderedConsumerOptions> = {};
    if (opts.filter !== undefined) oc.filter_subjects = [opts.filter];
    const from = opts.from;
    if (from === 'first') oc.deliver_policy = DeliverPolicy.All;
    else if (from === 'new') oc.deliver_policy = DeliverPolicy.New;
    else if ('seq' in from) Object.assign(oc, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, from.seq) });
    else Object.assign(oc, { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.time.toISOString() });
    const consumer = await this.#js.consumers.get(opts.stream, oc).catch((err: unknown) => {
      throw this.#unavailable(err, `creating a consumer on ${opts.stream}`);
    });
    try {
      // Nothing to replay: the consumer already knows how many messages match.
      if (untilCaughtUp && (lastSeq === 0 || (await consumer.info(true)).num_pending === 0)) return;
      const messages = await consumer.consume({ max_messages: CONSUME_BATCH });
      const stop = () => void messages.close().catch(() => {});
      signal?.addEventListener('abort', stop, { once: true });
      try {
        for await (const m of messages) {
          if (signal?.aborted || (untilCaughtUp && m.seq > lastSeq)) break;
          yield toMessage(m);
          if (signal?.aborted || (untilCaughtUp && (m.seq >= lastSeq || m.info.pending === 0))) break;
        }
      } finally {
        signal?.removeEventListener('abort', stop);
        await messages.close().catch(() => {});
      }
    } finally {
      await consumer.delete().catch(() => {}); // ordered consumers are ephemeral; do not leave it for 5 min
    }
  }

  async info(stream: string): Promise<StreamInfo> {
    try {
      const si = await this.#jsm.streams.info(stream);
      return {
        name: si.config.name,
        subjects: [...(si.config.subjects ?? [])],
        messages: si.state.messages,
        bytes: si.state.bytes,
        firstSeq: si.state.first_seq,
        lastSeq: si.state.last_seq,
      };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === 10059) throw new NotFoundError(`stream ${stream} does not exist; declare it with ensureStreams`, { cause: err });
      throw this.#unavailable(err, `reading stream ${stream}`);
    }
  }

  /** Drain (in-flight publishes and consumers finish), then disconnect; at most 5 s, then close. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#nc.isClosed()) return;
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        this.#nc.drain().then(() => true, () => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5_000))),
      ]);
      clearTimeout(timer);
      if (!drained && !this.#nc.isClosed()) await this.#nc.close().catch(() => {});
    })();
    return this.#closing;
  }

  async #watchStatus(): Promise<void> {
    for await (const s of this.#nc.status()) {
      if (s.type === 'disconnect') {
        this.#connected = false;
        const err = new MiddlewareUnavailableError(COMPONENT, `lost the connection to ${s.server}; retry with the same msgId`);
        for (const reject of this.#pending) reject(err);
        this.#pending.clear();
      } else if (s.type === 'reconnect') {
        this.#connected = true;
        this.#backoff.reset();
      }
    }
  }

  async #publishError(err: unknown, rec: JournalRecord): Promise<unknown> {
    if (err instanceof MiddlewareUnavailableError) return err;
    if (err instanceof JetStreamApiError && /maximum (bytes|messages)/i.test(err.message)) {
      return new JournalFullError(await this.#streamFor(rec.subject).catch(() => rec.subject), err.message, { cause: err });
    }
    if (err instanceof Error && /no responders|jetstream is not enabled/i.test(`${err.message} ${String(err.cause ?? '')}`)) {
      // Nobody answers this subject: either no stream captures it, or JetStream is away (or still
      // starting). Only the server's own "no stream matches" makes it a coverage error.
      const noStream = await this.#streamFor(rec.subject).then(
        () => false,
        (e: unknown) => e instanceof JetStreamApiError && /no stream matches/i.test(e.message),
      );
      if (noStream) return new JournalCoverageError([rec.subject]);
    }
    return this.#unavailable(err, `publishing ${rec.subject} (msgId ${rec.msgId})`);
  }

  #streamFor(subject: string): Promise<string> {
    return this.#jsm.streams.find(subject);
  }

  #unavailable(err: unknown, what: string): unknown {
    if (err instanceof JetStreamApiError || err instanceof JournalCoverageError) return err;
    const transient = err instanceof errors.TimeoutError || err instanceof errors.RequestError || err instanceof errors.ClosedConnectionError
      || err instanceof errors.ConnectionError || err instanceof errors.DrainingConnectionError || (err instanceof Error && err.name === 'JetStreamNotEnabled');
    if (!transient) return err;
    return new MiddlewareUnavailableError(COMPONENT, `${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Connect (reconnecting forever afterwards) and return the journal; MiddlewareUnavailableError if the first connect fails. */
export async function openJetStreamJournal(opts: JetStreamJournalOptions): Promise<JetStreamJournal> {
  let nc: NatsConnection;
  const backoff = new Backoff();
  try {
    nc = await connect({
      servers: opts.servers,
      user: opts.user,
      pass: opts.pass,
      token: opts.token,
      name: opts.name ?? 'ssmd-journal',
      timeout: opts.connectTimeoutMs ?? 10_000,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: backoff.next,
      pingInterval: 30_000,
    });
  } catch (err) {
    throw new MiddlewareUnavailableError(COMPONENT, `cannot connect to ${String(opts.servers)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  try {
    const jsm = await jetstreamManager(nc, { timeout: opts.publishTimeoutMs ?? 5_000 });
    return new JetStreamJournal(nc, jsm, opts, backoff);
  } catch (err) {
    await nc.close().catch(() => {});
    throw new MiddlewareUnavailableError(COMPONENT, `JetStream is not available at ${String(opts.servers)}`, { cause: err });
  }
}

function toConfig(spec: StreamSpec): Partial<StreamConfig> & { name: string } {
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    max_age: nanos(spec.maxAgeMs),
    max_bytes: spec.maxBytes,
    max_msgs: -1,
    discard: spec.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
    duplicate_window: nanos(effectiveDuplicateWindowMs(spec)),
    storage: StorageType.File,
    allow_direct: true,
  };
}

function differs(current: StreamConfig, want: Partial<StreamConfig>): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return !same([...(current.subjects ?? [])].sort(), [...(want.subjects ?? [])].sort())
    || (['max_age', 'max_bytes', 'max_msgs', 'discard', 'duplicate_window', 'allow_direct'] as const).some((k) => !same(current[k], want[k]));
}

function toMessage(m: JsMsg): JournalMessage {
  const headers: Record<string, string> = {};
  let msgId: string | undefined;
  if (m.headers) {
    for (const k of m.headers.keys()) {
      if (k === MSG_ID) msgId = m.headers.get(k);
      else headers[k] = m.headers.get(k);
    }
  }
  const msg: JournalMessage = { stream: m.info.stream, subject: m.subject, data: m.data, seq: m.seq, timestamp: Math.floor(m.info.timestampNanos / 1e6), headers };
  if (msgId !== undefined) msg.msgId = msgId;
  return msg;
}

/**
 * Reconnect delay: half the time spent disconnected, between 250 ms and 5 s, plus jitter. nats.js
 * calls the handler on every pass of its dial loop (not once per dial), so the delay depends only
 * on elapsed time, which makes attempts roughly geometric: 0, 0.25, 0.5, 0.75, 1.1, 1.7 s ...
 */
class Backoff {
  #since: number | undefined;
  next = (): number => {
    const now = Date.now();
    this.#since ??= now;
    return Math.min(5_000, Math.max(250, (now - this.#since) / 2)) + Math.floor(Math.random() * 50);
  };
  reset(): void {
    this.#since = undefined;
  }
}

/** Counting semaphore bounding publishes in flight (FIFO, O(1) per operation). */
class Semaphore {
  #free: number;
  #queue: Array<(() => void) | undefined> = [];
  #head = 0;
  constructor(size: number) {
    if (!(size >= 1)) throw new RangeError(`maxInFlight must be >= 1, got ${size}`);
    this.#free = size;
  }
  tryAcquire(): boolean {
    if (this.#free === 0) return false;
    this.#free -= 1;
    return true;
  }
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.#queue.push(resolve));
  }
  release(): void {
    if (this.#head === this.#queue.length) {
      this.#free += 1;
      return;
    }
    const next = this.#queue[this.#head];
    this.#queue[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    next!();
  }
}
