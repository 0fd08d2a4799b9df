import kafkajs from 'kafkajs';
import { nowUs } from '../clock.ts';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { keyOf } from '../message.ts';
import { paddedData, stampOfPadded } from '../payload.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { KAFKA_BROKERS } from './kafka-config.ts';
import { kafkaHeaderPairs } from './kafka-headers.ts';
import { KAFKA_COMMIT_INTERVAL_MS } from './kafka-raw-client.ts';

const { Kafka, logLevel, Partitioners } = kafkajs;

function client(): kafkajs.Kafka {
  return new Kafka({ clientId: 'herald-bench', brokers: KAFKA_BROKERS, logLevel: logLevel.ERROR });
}

function message(seq: number, sentAt: number, bytes: number): kafkajs.Message {
  return {
    key: keyOf(seq),
    value: paddedData(seq, sentAt, bytes),
    headers: Object.fromEntries(kafkaHeaderPairs(seq)),
  };
}

/** An idempotent producer (`acks: -1`, one request in flight), the Java-compatible default partitioner. */
async function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const topic = spec.resources.topic!;
  const kafka = client().producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await kafka.connect();
  // Fetch the topic's metadata and a producer id before the measurement (event `count`: outside the range).
  await kafka.send({ topic, acks: -1, messages: [message(spec.count, nowUs(), spec.payloadBytes)] });
  return {
    async publishBatch(from, n) {
      const sentAt = nowUs();
      await kafka.send({
        topic,
        acks: -1,
        messages: Array.from({ length: n }, (_, i) => message(from + i, sentAt, spec.payloadBytes)),
      });
    },
    async publishOne(seq, sentAt) {
      await kafka.send({ topic, acks: -1, messages: [message(seq, sentAt, spec.payloadBytes)] });
    },
    close: () => kafka.disconnect(),
  };
}

/** `eachMessage` from the beginning, auto-committing every 100 ms. */
async function consumer(spec: TrialSpec, placement: Placement, sink: Sink): Promise<ConsumerDriver> {
  const kafka = client().consumer({ groupId: `${spec.resources.prefix!}-${placement.group}` });
  await kafka.connect();
  await kafka.subscribe({ topic: spec.resources.topic!, fromBeginning: true });
  await kafka.run({
    autoCommitInterval: KAFKA_COMMIT_INTERVAL_MS,
    eachMessage: ({ message: m }) => {
      sink.accept(stampOfPadded(m.value!));
      return Promise.resolve();
    },
  });
  return { close: () => kafka.disconnect() };
}

export const kafkajsClient: PeerClient = { producer, consumer };
