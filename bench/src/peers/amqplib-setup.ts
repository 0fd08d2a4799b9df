import amqp from 'amqplib';
import type { TrialContext, TrialResources } from '../system.ts';
import { deleteRabbitmqTopology, RABBITMQ_URL } from './rabbitmq-config.ts';

/**
 * The raw amqplib topology: a durable direct exchange named after the trial and, per group, one durable quorum
 * queue bound to it (the type Herald declares by default). The teardown deletes them.
 */
export function amqplibSetup(context: TrialContext): Promise<TrialResources> {
  return declare(context, 1);
}

/**
 * Herald's topology with the raw client: per group, `partitions` durable quorum queues, each bound with its own
 * routing key (`orders.p<n>`), so both sides pay for the same number of queues (Raft groups) on the broker.
 */
export function amqplibPartitionedSetup(
  partitions: number,
): (context: TrialContext) => Promise<TrialResources> {
  return (context) => declare(context, partitions);
}

async function declare(context: TrialContext, partitions: number): Promise<TrialResources> {
  const exchange = `hb-${context.name}`;
  const routingKey = (p: number): string => (partitions === 1 ? 'orders' : `orders.p${p}`);
  const queue = (group: string, p: number): string =>
    partitions === 1 ? `${exchange}:${group}` : `${exchange}:${group}.p${p}`;
  const queues = context.groups.flatMap((group) =>
    Array.from({ length: partitions }, (_, p) => queue(group, p)),
  );
  const connection = await amqp.connect(RABBITMQ_URL);
  try {
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'direct', { durable: true });
    for (const group of context.groups) {
      for (let p = 0; p < partitions; p++) {
        await channel.assertQueue(queue(group, p), {
          durable: true,
          arguments: { 'x-queue-type': 'quorum' },
        });
        await channel.bindQueue(queue(group, p), exchange, routingKey(p));
      }
    }
    await channel.close();
  } finally {
    await connection.close();
  }
  return {
    resources: {
      exchange,
      routingKey: 'orders',
      queuePrefix: `${exchange}:`,
      ...(partitions === 1 ? {} : { partitions: String(partitions) }),
    },
    teardown: () => deleteRabbitmqTopology(queues, [exchange]),
  };
}
