import { kafka } from '@herald/kafka';
import { nowUs } from '../clock.ts';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { paddedRecord, stampOfPadded } from '../payload.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { HERALD_CONCURRENCY } from './herald-client.ts';
import { KAFKA_BROKERS, KAFKA_PARTITIONS } from './kafka-config.ts';

/** Herald's Kafka transport with its defaults, but the trial's 3 partitions and a prefix for its own topics. */
function open(spec: TrialSpec) {
  return kafka({
    brokers: KAFKA_BROKERS,
    clientId: 'herald-bench',
    partitions: KAFKA_PARTITIONS,
    topicPrefix: spec.resources.prefix!,
  });
}

async function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const transport = open(spec);
  const topic = spec.resources.topic!;
  const bytes = spec.payloadBytes;
  // Connect and learn the topic before the measurement (event `count`: outside the measured range).
  await transport.publish([paddedRecord(topic, spec.count, nowUs(), bytes)]);
  return {
    async publishBatch(from, n) {
      const sentAt = nowUs();
      await transport.publish(
        Array.from({ length: n }, (_, i) => paddedRecord(topic, from + i, sentAt, bytes)),
      );
    },
    async publishOne(seq, sentAt) {
      await transport.publish([paddedRecord(topic, seq, sentAt, bytes)]);
    },
    close: () => transport.close(),
  };
}

async function consumer(spec: TrialSpec, placement: Placement, sink: Sink): Promise<ConsumerDriver> {
  const transport = open(spec);
  const subscription = transport.subscribe(
    {
      group: `${spec.resources.prefix!}-${placement.group}`,
      topics: [spec.resources.topic!],
      concurrency: HERALD_CONCURRENCY,
    },
    async (delivery) => {
      sink.accept(stampOfPadded(delivery.record.data));
      await delivery.ack();
    },
  );
  await subscription.ready;
  return {
    async close() {
      await subscription.close();
      await transport.close();
    },
  };
}

export const heraldKafkaClient: PeerClient = { producer, consumer };
