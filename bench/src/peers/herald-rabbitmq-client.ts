import { rabbitmq } from '@herald/rabbitmq';
import { nowUs } from '../clock.ts';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { paddedRecord, stampOfPadded } from '../payload.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { HERALD_CONCURRENCY } from './herald-client.ts';
import { HERALD_RABBITMQ_PARTITIONS } from './herald-rabbitmq-setup.ts';
import { RABBITMQ_URL } from './rabbitmq-config.ts';

/** Herald's RabbitMQ transport with its defaults (quorum queues, prefetch 32), under the trial's prefix. */
function open(spec: TrialSpec) {
  return rabbitmq({
    url: RABBITMQ_URL,
    prefix: spec.resources.prefix!,
    partitions: HERALD_RABBITMQ_PARTITIONS,
    connectionName: 'herald-bench',
  });
}

async function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const transport = open(spec);
  await transport.connect();
  const topic = spec.resources.topic!;
  const bytes = spec.payloadBytes;
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
    { group: placement.group, topics: [spec.resources.topic!], concurrency: HERALD_CONCURRENCY },
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

export const heraldRabbitmqClient: PeerClient = { producer, consumer };
