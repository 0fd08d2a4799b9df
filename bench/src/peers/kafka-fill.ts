import { Producer, ProduceAcks } from '@platformatic/kafka';
import { keyOf } from '../message.ts';
import { paddedData } from '../payload.ts';
import { kafkaAdmin } from './kafka-admin.ts';
import { KAFKA_BROKERS, KAFKA_PARTITIONS } from './kafka-config.ts';
import { kafkaHeaderPairs } from './kafka-headers.ts';

const FILL_BATCH = 500;
const FILL_IN_FLIGHT = 4;

/** Creates a topic of {@link KAFKA_PARTITIONS} partitions (one replica: the broker is a single node). */
export async function createKafkaTopic(topic: string): Promise<void> {
  const admin = kafkaAdmin();
  try {
    await admin.createTopics({ topics: [topic], partitions: KAFKA_PARTITIONS, replicas: 1 });
  } finally {
    await admin.close();
  }
}

/** Deletes the topics named, and those starting with `prefix` when given. Never throws. */
export async function deleteKafkaTopics(topics: readonly string[], prefix?: string): Promise<void> {
  const admin = kafkaAdmin();
  try {
    const all = prefix === undefined ? [] : await admin.listTopics({ includeInternals: false });
    const doomed = [...new Set([...topics, ...all.filter((t) => t.startsWith(prefix!))])];
    if (doomed.length > 0) await admin.deleteTopics({ topics: doomed });
  } catch {
    // Best effort: a topic left behind is named after its run.
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/**
 * Stores events `0 .. count - 1` (1 KB, binary-mode CloudEvents headers) on a new topic, for the consume trials.
 * Filling is not measured, so it uses a plain (non-idempotent) producer with several batches in flight: only
 * idempotent producers lose records to concurrent sends (platformatic/kafka#326).
 */
export async function fillKafkaTopic(topic: string, count: number, bytes: number): Promise<void> {
  await createKafkaTopic(topic);
  const producer = new Producer({
    clientId: 'herald-bench-fill',
    bootstrapBrokers: KAFKA_BROKERS,
    acks: ProduceAcks.ALL,
    autocreateTopics: false,
  });
  try {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < count) {
        const from = next;
        const n = Math.min(FILL_BATCH, count - from);
        next += n;
        await producer.send({
          messages: Array.from({ length: n }, (_, i) => ({
            topic,
            key: Buffer.from(keyOf(from + i)),
            value: paddedData(from + i, 0, bytes),
            headers: new Map(kafkaHeaderPairs(from + i).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
          })),
        });
      }
    };
    await Promise.all(Array.from({ length: FILL_IN_FLIGHT }, lane));
  } finally {
    await producer.close();
  }
}
