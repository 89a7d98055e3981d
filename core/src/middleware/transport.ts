/**
 * Transport (M5, M12): fan-out of live messages to consumers. MQTT, NATS core, or in-process.
 * Subjects use the journal's naming; patterns use NATS wildcards (`*` one token, `>` the rest);
 * MQTT maps them through `subjectToTopic`. At-most-once, like any live fan-out: a consumer that
 * needs every message reads the journal. Passes `test/contracts/transport.contract.ts`.
 */
export interface TransportMessage {
  subject: string;
  data: Uint8Array;
}

export interface Subscription {
  unsubscribe(): Promise<void>;
}

export interface Transport {
  readonly kind: 'mqtt' | 'nats' | 'memory';
  /** `retain`: keep as the latest value for late subscribers (MQTT retained; memory keeps it too; NATS core ignores it). */
  publish(subject: string, data: Uint8Array, opts?: { retain?: boolean }): Promise<void>;
  /** Resolves once the subscription is active at the server. */
  subscribe(pattern: string, handler: (msg: TransportMessage) => void): Promise<Subscription>;
  close(): Promise<void>;
}
