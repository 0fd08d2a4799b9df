import { nats } from '@herald/nats';
import { nowUs } from '../clock.ts';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { paddedRecord, stampOfPadded } from '../payload.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { HERALD_CONCURRENCY } from './herald-client.ts';
import { NATS_SERVER } from './jetstream-connection.ts';

/** Herald's NATS transport with its defaults (8 partitions, file storage), under the trial's prefix. */
function open(spec: TrialSpec) {
  return nats({ servers: `nats://${NATS_SERVER}`, prefix: spec.resources.prefix! });
}

function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const transport = open(spec);
  const topic = spec.resources.topic!;
  const bytes = spec.payloadBytes;
  // The connection opens in the background; the topic's stream exists (the consumer created it).
  return Promise.resolve({
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
  });
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

export const heraldNatsClient: PeerClient = { producer, consumer };
