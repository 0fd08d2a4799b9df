import { Consumer, Producer, ProduceAcks, type MessageToProduce } from '@platformatic/kafka';
import { nowUs } from '../clock.ts';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { keyOf } from '../message.ts';
import { paddedData, stampOfPadded } from '../payload.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { KAFKA_BROKERS } from './kafka-config.ts';
import { kafkaHeaderPairs } from './kafka-headers.ts';

/** How often the raw consumer commits what it has read, ms (Herald's `commitIntervalMs` default too). */
export const KAFKA_COMMIT_INTERVAL_MS = 100;

function message(topic: string, seq: number, sentAt: number, bytes: number): MessageToProduce {
  return {
    topic,
    key: Buffer.from(keyOf(seq)),
    value: paddedData(seq, sentAt, bytes),
    headers: new Map(kafkaHeaderPairs(seq).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
  };
}

/**
 * An idempotent producer with `acks=all`, one `send` in flight at a time (the harness awaits each call): with
 * several in flight, @platformatic/kafka 1.35's idempotent producer drops records (platformatic/kafka#326).
 */
async function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const topic = spec.resources.topic!;
  const client = new Producer({
    clientId: 'herald-bench-producer',
    bootstrapBrokers: KAFKA_BROKERS,
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
  });
  // Connect, fetch the topic's metadata and get a producer id before the measurement (event `count`: outside
  // the measured range).
  await client.send({ messages: [message(topic, spec.count, nowUs(), spec.payloadBytes)] });
  return {
    async publishBatch(from, n) {
      const sentAt = nowUs();
      await client.send({
        messages: Array.from({ length: n }, (_, i) => message(topic, from + i, sentAt, spec.payloadBytes)),
      });
    },
    async publishOne(seq, sentAt) {
      await client.send({ messages: [message(topic, seq, sentAt, spec.payloadBytes)] });
    },
    close: () => client.close(),
  };
}

/** A consumer-group member reading from the earliest offset, committing every 100 ms (`autocommit`). */
async function consumer(spec: TrialSpec, placement: Placement, sink: Sink): Promise<ConsumerDriver> {
  const client = new Consumer({
    clientId: 'herald-bench-consumer',
    groupId: `${spec.resources.prefix!}-${placement.group}`,
    bootstrapBrokers: KAFKA_BROKERS,
  });
  const stream = await client.consume({
    topics: [spec.resources.topic!],
    mode: 'committed',
    fallbackMode: 'earliest',
    autocommit: KAFKA_COMMIT_INTERVAL_MS,
  });
  stream.on('data', (m) => sink.accept(stampOfPadded(m.value)));
  return {
    async close() {
      await stream.close();
      await client.close();
    },
  };
}

export const kafkaRawClient: PeerClient = { producer, consumer };
