/*
 * MQTT transport (MQTT v5, `mqtt` package; Debian mosquitto 2.0).
 *
 * QoS: 0 by default for live fan-out: lowest latency, at-most-once; the journal is the source of
 *   truth for completeness. While offline a QoS 0 publish rejects (no unbounded queue). Use QoS 1
 *   for bridges that want at-least-once delivery to the broker.
 * Retained: only "latest snapshot" subjects are published with `retain: true` (the broker keeps
 *   the latest value per topic for late subscribers); raw frames never are. An empty retained
 *   payload clears the topic's retained value.
 * Topics: `subjectToTopic(subject, prefix)`, i.e. `ssmd/<token>/...`; patterns map `*` -> `+`,
 *   `>` -> `#`; incoming topics map back with `topicToSubject`. MQTT `a/#` also matches `a`
 *   (NATS `a.>` does not), so each delivery is re-checked with NATS rules. Each distinct pattern
 *   is one broker subscription with a v5 subscription identifier, because mosquitto sends one
 *   copy per matching subscription and the identifier says which one a copy is for.
 * Auth: username/password from the key store; the broker config refuses anonymous clients.
 *   Connect failures at open (bad credentials, refused, timeout) reject with
 *   MiddlewareUnavailableError; afterwards the client reconnects and resubscribes by itself.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { ConfigError } from '../../errors.js';
import { MiddlewareUnavailableError } from '../errors.js';
import { subjectMatches, subjectToTopic, topicToSubject } from '../subjects.js';
import type { Subscription, Transport, TransportMessage } from '../transport.js';
import { assertPattern, assertSubject, callHandler, closedError } from './memory.js';

/** Options for `openMqttTransport`. */
export interface MqttTransportOptions {
  /** `mqtt://host:port` (or `mqtts://`). */
  url: string;
  username?: string;
  password?: string;
  /** Default: `ssmd-<random>`. */
  clientId?: string;
  /** Publish and subscribe QoS (default 0). */
  qos?: 0 | 1;
  /** First topic level, without '/' (default `ssmd`). */
  topicPrefix?: string;
  /** Give up on the first connect after this long (default 10 s). */
  timeoutMs?: number;
}

type Handler = (msg: TransportMessage) => void;
// one broker subscription, shared by every local subscription to the same pattern
interface Filter { id: number; entries: Set<{ pattern: string; handler: Handler }>; ready: Promise<void> }

/**
 * Transport over one MQTT v5 connection; one broker subscription per distinct pattern. A second
 * local subscription to an identical pattern shares it, so it gets no retained replay.
 */
export class MqttTransport implements Transport {
  readonly kind = 'mqtt' as const;
  /** The last connection error seen after open (the client keeps reconnecting). */
  lastError: Error | undefined;
  private readonly filters = new Map<string, Filter>();
  private readonly byId = new Map<number, Filter>();
  private nextId = 1;
  private errors = 0;
  private closing: Promise<void> | undefined;

  /** Use `openMqttTransport`. */
  constructor(private readonly client: MqttClient, private readonly prefix: string, private readonly qos: 0 | 1) {
    client.on('error', (err) => (this.lastError = err));
    client.on('message', (topic, payload, packet) => this.dispatch(topic, payload, packet));
  }

  /** Handler calls that threw or rejected. */
  get handlerErrors(): number {
    return this.errors;
  }

  async publish(subject: string, data: Uint8Array, opts: { retain?: boolean } = {}): Promise<void> {
    if (this.closing) throw closedError(this.kind);
    assertSubject(subject);
    const topic = subjectToTopic(subject, this.prefix);
    // a copy: mqtt.js keeps the buffer after publish resolves (socket queue, QoS 1 resend store)
    await this.client.publishAsync(topic, Buffer.from(data), { qos: this.qos, retain: opts.retain === true }).catch((err: Error) => {
      throw new MiddlewareUnavailableError('mqtt', `publish to ${topic} failed: ${err.message}`, { cause: err });
    });
  }

  async subscribe(pattern: string, handler: Handler): Promise<Subscription> {
    if (this.closing) throw closedError(this.kind);
    assertPattern(pattern);
    const topic = subjectToTopic(pattern, this.prefix);
    const filter = this.filters.get(topic) ?? this.addFilter(topic, pattern);
    const entry = { pattern, handler };
    filter.entries.add(entry);
    await filter.ready.catch((err: unknown) => {
      filter.entries.delete(entry);
      throw err;
    });
    return {
      unsubscribe: async () => {
        if (!filter.entries.delete(entry) || filter.entries.size > 0 || this.filters.get(topic) !== filter) return;
        this.filters.delete(topic);
        this.byId.delete(filter.id);
        if (this.closing) return;
        const done = this.client.unsubscribeAsync(topic); // queued while offline: do not wait then
        await (this.client.connected ? done : done.catch(() => {}));
      },
    };
  }

  close(): Promise<void> {
    this.closing ??= this.client.endAsync();
    return this.closing;
  }

  private addFilter(topic: string, pattern: string): Filter {
    const filter: Filter = { id: this.nextId++, entries: new Set(), ready: Promise.resolve() };
    const opts = { qos: this.qos, properties: { subscriptionIdentifier: filter.id } };
    filter.ready = this.client.subscribeAsync(topic, opts).then(
      () => undefined,
      (err: Error) => {
        this.filters.delete(topic);
        this.byId.delete(filter.id);
        throw new MiddlewareUnavailableError('mqtt', `subscribe ${topic} (pattern ${pattern}) failed: ${err.message}`, { cause: err });
      },
    );
    this.filters.set(topic, filter);
    this.byId.set(filter.id, filter);
    return filter;
  }

  private dispatch(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (!topic.startsWith(`${this.prefix}/`)) return;
    const subject = topicToSubject(topic, this.prefix);
    const ids = packet.properties?.subscriptionIdentifier;
    const targets = ids === undefined ? [...this.filters.values()] : [ids].flat().map((id) => this.byId.get(id));
    const msg = { subject, data: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength) };
    for (const filter of targets) {
      for (const e of filter?.entries ?? []) {
        if (subjectMatches(e.pattern, subject)) callHandler(e.handler, msg, () => this.errors++);
      }
    }
  }
}

/** Connects (MQTT v5); rejects with `MiddlewareUnavailableError` carrying the reason if the broker refuses or cannot be reached. */
export async function openMqttTransport(opts: MqttTransportOptions): Promise<MqttTransport> {
  const prefix = opts.topicPrefix ?? 'ssmd';
  if (!/^[^/+#\s]+$/.test(prefix)) {
    throw new ConfigError([{ file: '(mqtt transport options)', path: 'topicPrefix', expected: "one topic level without '/', '+', '#'", got: JSON.stringify(prefix) }]);
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const client = mqtt.connect(opts.url, {
    protocolVersion: 5,
    username: opts.username,
    password: opts.password,
    clientId: opts.clientId ?? `ssmd-${randomBytes(6).toString('hex')}`,
    connectTimeout: timeoutMs,
    reconnectPeriod: 1_000,
    queueQoSZero: false, // offline, a QoS 0 publish rejects instead of growing an unbounded queue
  });
  const transport = new MqttTransport(client, prefix, opts.qos ?? 0);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(`no CONNACK within ${timeoutMs} ms`), timeoutMs);
    const onError = (err: Error): void => fail(err.message, err);
    const onClose = (): void => fail('connection closed before CONNACK');
    const onConnect = (): void => (settle(), resolve());
    const settle = (): void => {
      clearTimeout(timer);
      client.off('error', onError).off('close', onClose).off('connect', onConnect);
    };
    function fail(reason: string, cause?: unknown): void {
      settle();
      client.end(true);
      reject(new MiddlewareUnavailableError('mqtt', `cannot connect to ${opts.url}: ${reason}`, { cause }));
    }
    client.on('error', onError).on('close', onClose).on('connect', onConnect);
  });
  return transport;
}
