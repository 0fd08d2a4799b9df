import { AMQPLIB_PARTITION_PREFETCH, AMQPLIB_PREFETCH } from './peers/amqplib-client.ts';
import { amqplibPartitionedSetup, amqplibSetup } from './peers/amqplib-setup.ts';
import { HERALD_CONCURRENCY } from './peers/herald-client.ts';
import { heraldNatsSetup } from './peers/herald-nats-setup.ts';
import { HERALD_RABBITMQ_PARTITIONS, heraldRabbitmqSetup } from './peers/herald-rabbitmq-setup.ts';
import { JETSTREAM_PULL_BATCH } from './peers/jetstream-client.ts';
import {
  JETSTREAM_MAX_ACK_PENDING,
  JETSTREAM_PARTITION_MAX_ACK_PENDING,
  jetstreamPartitionedSetup,
  jetstreamSetup,
} from './peers/jetstream-setup.ts';
import { NATS_PARTITION_PULL_BATCH } from './peers/nats-raw-client.ts';
import type { Scenario } from './summary.ts';
import type { System } from './system.ts';

/** Bytes of event data in B3. */
export const B3_PAYLOAD_BYTES = 256;
const BATCH = 100;
const WINDOW = 4;

/** The scenarios of B3, in run order. */
export const B3_SCENARIOS: readonly Scenario[] = [
  { variant: 'single', mode: 'throughput', title: 'Throughput, 1 producer → 1 consumer' },
  { variant: 'single', mode: 'latency', title: 'Latency at a fixed offered rate, 1 producer → 1 consumer' },
];

const RABBITMQ_DURABILITY =
  'D2 (persistent messages on a durable quorum queue; the publisher confirm comes after the Raft log is fsynced)';

/** Every system of B3, in the order they run within a repetition: each raw client next to Herald on it. */
export function b3Systems(natsVersion: string | undefined): System[] {
  const base = {
    variants: ['single'],
    batch: BATCH,
    window: WINDOW,
    payloadBytes: B3_PAYLOAD_BYTES,
  } as const;
  const load =
    `${BATCH} events per publish call, ${WINDOW} calls in flight (one event per call at a fixed rate); ` +
    `${B3_PAYLOAD_BYTES} B body with the same binary-mode CloudEvents headers as Herald.`;
  const natsDurability =
    `D1 (file storage, acked before fsync: this nats-server (${natsVersion ?? 'unknown'}) rejects ` +
    '`sync_interval: always`)';
  return [
    {
      ...base,
      id: 'amqplib',
      peer: 'amqplib',
      durability: 'D2',
      label: 'raw amqplib',
      durabilityLabel: RABBITMQ_DURABILITY,
      broker: 'beam.smp',
      notes:
        'A durable direct exchange and one durable quorum queue; a confirm channel, `publish(persistent)` with a ' +
        `confirm callback per message (waiting for \`drain\` when the socket is full); \`consume\` with prefetch ` +
        `${AMQPLIB_PREFETCH} and a manual \`ack\` per message. ${load}`,
      setup: amqplibSetup,
    },
    {
      ...base,
      id: 'amqplib-8q',
      peer: 'amqplib',
      durability: 'D2',
      label: `raw amqplib, ${HERALD_RABBITMQ_PARTITIONS} queues`,
      durabilityLabel: RABBITMQ_DURABILITY,
      broker: 'beam.smp',
      notes:
        `Herald's topology with the raw client: a durable direct exchange and ${HERALD_RABBITMQ_PARTITIONS} durable ` +
        'quorum queues per group, each bound with its own routing key, events spread over them by sequence; ' +
        `publishing as above; one \`consume\` per queue on one channel, prefetch ${AMQPLIB_PARTITION_PREFETCH} ` +
        `per consumer, a manual \`ack\` per message. ${load}`,
      setup: amqplibPartitionedSetup(HERALD_RABBITMQ_PARTITIONS),
    },
    {
      ...base,
      id: 'herald-rabbitmq',
      peer: 'herald-rabbitmq',
      durability: 'D2',
      label: 'Herald rabbitmq transport',
      durabilityLabel: RABBITMQ_DURABILITY,
      broker: 'beam.smp',
      notes:
        `\`rabbitmq({ url, prefix })\` from @herald/rabbitmq with its defaults: ${HERALD_RABBITMQ_PARTITIONS} ` +
        'quorum partition queues per group, publisher confirms, prefetch 32 per partition; raw `Transport` API, ' +
        `\`subscribe\` with concurrency ${HERALD_CONCURRENCY}, \`ack()\` awaited per delivery. ${load}`,
      setup: heraldRabbitmqSetup,
    },
    {
      ...base,
      id: 'nats-raw',
      peer: 'nats-raw',
      durability: 'D1',
      label: 'raw nats.js (JetStream)',
      durabilityLabel: natsDurability,
      broker: 'nats-server',
      notes:
        'A file-storage stream with one subject; `js.publish` per event awaiting its ack (a call issues all its ' +
        `events before awaiting any); a durable pull consumer, \`consume({ max_messages: ${JETSTREAM_PULL_BATCH} ` +
        `})\`, explicit \`ack()\` per message after reading its \`ce-type\` and \`ce-id\` headers, max_ack_pending ` +
        `${JETSTREAM_MAX_ACK_PENDING}; connected with \`noAsyncTraces: true\`, as Herald's transport. ${load}`,
      setup: jetstreamSetup,
    },
    {
      ...base,
      id: 'nats-raw-8p',
      peer: 'nats-raw',
      durability: 'D1',
      label: 'raw nats.js (JetStream), 8 subjects',
      durabilityLabel: natsDurability,
      broker: 'nats-server',
      notes:
        "Herald's topology with the raw client: a file-storage stream with 8 partition subjects, events spread " +
        'over them by sequence; `js.publish` per event as above; per group a durable pull consumer per subject ' +
        `(filtered), \`consume({ max_messages: ${NATS_PARTITION_PULL_BATCH} })\`, max_ack_pending ` +
        `${JETSTREAM_PARTITION_MAX_ACK_PENDING}, explicit \`ack()\` per message after reading its \`ce-type\` and ` +
        `\`ce-id\` headers; connected with \`noAsyncTraces: true\`. ${load}`,
      setup: jetstreamPartitionedSetup(8),
    },
    {
      ...base,
      id: 'herald-nats',
      peer: 'herald-nats',
      durability: 'D1',
      label: 'Herald nats transport',
      durabilityLabel: natsDurability,
      broker: 'nats-server',
      notes:
        '`nats({ servers, prefix })` from @herald/nats with its defaults: 8 partition subjects in a file-storage ' +
        'stream, a durable pull consumer per partition (fetch batch 64, max_ack_pending 1000), `Nats-Msg-Id` ' +
        `deduplication on; raw \`Transport\` API, \`subscribe\` with concurrency ${HERALD_CONCURRENCY}, \`ack()\` ` +
        `awaited per delivery. ${load}`,
      setup: heraldNatsSetup,
    },
  ];
}
