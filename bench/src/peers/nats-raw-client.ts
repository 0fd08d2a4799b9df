import { jetstream, type ConsumerMessages } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { nowUs } from '../clock.ts';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { eventAttributes } from '../message.ts';
import { paddedData, stampOfPadded } from '../payload.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { JETSTREAM_PULL_BATCH } from './jetstream-client.ts';
import { natsConnection } from './jetstream-connection.ts';

/** The NATS binding's binary mode, as Herald writes it: every attribute a `ce-<name>` header. */
function ceHeaders(seq: number): MsgHdrs {
  const h = headers();
  for (const [name, value] of Object.entries(eventAttributes(seq))) h.append(`ce-${name}`, value);
  return h;
}

/** Pull batch per partition consumer on the partitioned topology (Herald's fetch batch). */
export const NATS_PARTITION_PULL_BATCH = 64;

/** The partition subjects of the topology (1: one subject). */
function partitionsOf(spec: TrialSpec): number {
  return Number(spec.resources.partitions ?? '1');
}

/** `js.publish` per event, each awaiting the stream's ack; a batch issues all before awaiting any. */
async function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const nc = await natsConnection();
  const js = jetstream(nc);
  const subject = spec.resources.subject!;
  const partitions = partitionsOf(spec);
  // Events spread over the partition subjects as keys hash over Herald's.
  const subjectOf = (seq: number): string => (partitions === 1 ? subject : `${subject}.p${seq % partitions}`);
  const publish = async (seq: number, sentAt: number): Promise<void> => {
    await js.publish(subjectOf(seq), paddedData(seq, sentAt, spec.payloadBytes), { headers: ceHeaders(seq) });
  };
  return {
    async publishBatch(from, n) {
      const sentAt = nowUs();
      const acks = [];
      for (let seq = from; seq < from + n; seq++) acks.push(publish(seq, sentAt));
      await Promise.all(acks);
    },
    publishOne: publish,
    close: () => nc.close(),
  };
}

/**
 * The group's durable pull consumer (created by the setup), an explicit `ack()` per message; on the partitioned
 * topology, one per partition, each pulling its own batches.
 */
async function consumer(spec: TrialSpec, placement: Placement, sink: Sink): Promise<ConsumerDriver> {
  const nc = await natsConnection();
  const js = jetstream(nc);
  const partitions = partitionsOf(spec);
  const names =
    partitions === 1
      ? [placement.group]
      : Array.from({ length: partitions }, (_, p) => `${placement.group}-p${p}`);
  const streams: ConsumerMessages[] = [];
  for (const name of names) {
    const source = await js.consumers.get(spec.resources.stream!, name);
    streams.push(
      await source.consume({
        max_messages: partitions === 1 ? JETSTREAM_PULL_BATCH : NATS_PARTITION_PULL_BATCH,
      }),
    );
  }
  const done = Promise.all(
    streams.map(async (messages) => {
      for await (const m of messages) {
        // What any consumer of binary-mode CloudEvents reads to route a message, as the amqplib and Kafka peers'
        // clients decode every header anyway; nats.js parses headers only when they are read.
        const h = m.headers;
        if (h === undefined || h.get('ce-type') === '' || h.get('ce-id') === '')
          throw new Error(`message ${m.seq} has no ce-type or ce-id header`);
        sink.accept(stampOfPadded(m.data));
        m.ack();
      }
    }),
  );
  return {
    async close() {
      for (const messages of streams) await messages.close();
      await done;
      await nc.close();
    },
  };
}

export const natsRawClient: PeerClient = { producer, consumer };
