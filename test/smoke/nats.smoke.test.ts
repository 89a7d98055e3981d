import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNats, type NatsServer } from '../harness/nats.js';

const STREAM = 'SMOKE_TICKS';
const enc = new TextEncoder();

describe('nats (JetStream) smoke', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let js: JetStreamClient;

  beforeAll(async () => {
    server = await startNats();
    nc = await connect({ servers: server.url, timeout: 5_000 });
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
  }, 60_000);

  afterAll(async () => {
    await nc?.close().catch(() => {});
    await server?.stop();
  });

  it('runs a current nats-server with JetStream', async () => {
    expect(server.port).not.toBe(4222);
    const [major, minor] = nc.info!.version.split('.').map(Number) as [number, number];
    expect(major * 100 + minor).toBeGreaterThanOrEqual(210);
    expect(nc.info!.jetstream).toBe(true);
    const info = await jsm.getAccountInfo();
    expect(info.streams).toBe(0);
  });

  it('publishes with msgIDs (dedup) and consumes back in order', async () => {
    const si = await jsm.streams.add({ name: STREAM, subjects: ['smoke.ticks.>'], duplicate_window: 60_000_000_000 });
    expect(si.config.name).toBe(STREAM);

    const acks = [];
    for (let i = 1; i <= 10; i++) {
      acks.push(await js.publish(`smoke.ticks.s${i % 3}`, enc.encode(`tick-${i}`), { msgID: `id-${i}` }));
    }
    expect(acks.map((a) => a.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(acks.every((a) => a.stream === STREAM && !a.duplicate)).toBe(true);

    // republishing an id inside the duplicate window is acknowledged but not stored
    const dup = await js.publish('smoke.ticks.s1', enc.encode('tick-4-again'), { msgID: 'id-4' });
    expect(dup.duplicate).toBe(true);
    expect(dup.seq).toBe(4);
    expect((await jsm.streams.info(STREAM)).state.messages).toBe(10);

    // ordered consumer
    const ordered = await js.consumers.get(STREAM);
    const seen: Array<{ seq: number; data: string; subject: string }> = [];
    const batch = await ordered.fetch({ max_messages: 10, expires: 5_000 });
    for await (const m of batch) {
      seen.push({ seq: m.seq, data: m.string(), subject: m.subject });
    }
    expect(seen.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen.map((m) => m.data)).toEqual(Array.from({ length: 10 }, (_, i) => `tick-${i + 1}`));
    expect(seen[3]?.subject).toBe('smoke.ticks.s1');

    // durable consumer with explicit acks sees the same sequence and drains to zero pending
    await jsm.consumers.add(STREAM, {
      durable_name: 'smoke-durable',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
    const durable = await js.consumers.get(STREAM, 'smoke-durable');
    const seqs: number[] = [];
    const msgs = await durable.consume({ max_messages: 4 });
    for await (const m of msgs) {
      seqs.push(m.info.streamSequence);
      await m.ackAck();
      if (seqs.length === 10) break;
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const ci = await jsm.consumers.info(STREAM, 'smoke-durable');
    expect(ci.num_pending).toBe(0);
    expect(ci.num_ack_pending).toBe(0);
    expect(ci.delivered.stream_seq).toBe(10);
  });
});
