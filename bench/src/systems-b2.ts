import { HERALD_CONCURRENCY } from './peers/herald-client.ts';
import { KAFKA_PARTITIONS, KAFKA_PAYLOAD_BYTES } from './peers/kafka-config.ts';
import { KAFKA_COMMIT_INTERVAL_MS } from './peers/kafka-raw-client.ts';
import { kafkaSetup } from './peers/kafka-setup.ts';
import type { Scenario } from './summary.ts';
import type { System } from './system.ts';

/** Events per call in B2's batch trials. */
export const B2_BATCH = 100;

/** The scenarios of B2, in run order. */
export const B2_SCENARIOS: readonly Scenario[] = [
  {
    variant: 'single',
    mode: 'publish-one',
    title: 'Single awaited publish: one event per call, each awaited',
  },
  {
    variant: 'single',
    mode: 'publish-batch',
    title: `Batches of ${B2_BATCH}: one call in flight, each awaited`,
  },
  {
    variant: 'single',
    mode: 'consume',
    title: 'Consume stored events with commits: 1 consumer, 3 partitions',
  },
];

const DURABILITY =
  "D1 (acks=all on a single-node broker: in the only replica's page cache, no fsync per ack; survives a client " +
  'or broker process crash)';

/** Every system of B2, in the order they run within a repetition. */
export function b2Systems(): System[] {
  const base = {
    durability: 'D1',
    durabilityLabel: DURABILITY,
    broker: 'kafka',
    variants: ['single'],
    batch: B2_BATCH,
    window: 1,
    payloadBytes: KAFKA_PAYLOAD_BYTES,
    setup: kafkaSetup,
  } as const;
  const common =
    `${KAFKA_PAYLOAD_BYTES} B value, key of 16, the same binary-mode CloudEvents headers (\`ce_*\`) as Herald; ` +
    `topic of ${KAFKA_PARTITIONS} partitions.`;
  return [
    {
      ...base,
      id: 'kafka-raw',
      peer: 'kafka-raw',
      label: 'raw @platformatic/kafka',
      notes:
        `\`Producer\` with \`idempotent: true, acks: ALL\`, one \`send\` in flight (several in flight lose records ` +
        'with this idempotent producer: platformatic/kafka#326); `Consumer.consume({ mode: committed, ' +
        `fallbackMode: earliest, autocommit: ${KAFKA_COMMIT_INTERVAL_MS} })\`, messages read from the stream's ` +
        `\`data\` events. ${common}`,
    },
    {
      ...base,
      id: 'kafkajs',
      peer: 'kafkajs',
      label: 'raw kafkajs',
      notes:
        '`producer({ idempotent: true, maxInFlightRequests: 1 })`, `send({ acks: -1 })`, default (Java-compatible) ' +
        `partitioner; \`consumer.run({ eachMessage, autoCommitInterval: ${KAFKA_COMMIT_INTERVAL_MS} })\` from the ` +
        `beginning. ${common}`,
    },
    {
      ...base,
      id: 'herald-kafka',
      peer: 'herald-kafka',
      label: 'Herald kafka transport',
      notes:
        `\`kafka({ brokers, partitions: ${KAFKA_PARTITIONS}, topicPrefix })\` from @herald/kafka, raw \`Transport\` ` +
        'API: `publish([record])` or `publish(records)` (its idempotent producer, acks=all, one produce request ' +
        `in flight); \`subscribe\` with concurrency ${HERALD_CONCURRENCY}, \`ack()\` awaited per delivery, ` +
        `offsets committed every ${KAFKA_COMMIT_INTERVAL_MS} ms below the oldest unsettled (its defaults). ${common}`,
    },
  ];
}
