import amqp from 'amqplib';
import type { TrialContext, TrialResources } from '../system.ts';
import { deleteRabbitmqTopology, RABBITMQ_URL } from './rabbitmq-config.ts';

/**
 * The raw amqplib topology: a durable direct exchange named after the trial and, per group, one durable quorum
 * queue bound to it (the type Herald declares by default). The teardown deletes them.
 */
export async function amqplibSetup(context: TrialContext): Promise<TrialResources> {
  const exchange = `hb-${context.name}`;
  const queue = (group: string): string => `${exchange}:${group}`;
  const connection = await amqp.connect(RABBITMQ_URL);
  try {
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'direct', { durable: true });
    for (const group of context.groups) {
      await channel.assertQueue(queue(group), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await channel.bindQueue(queue(group), exchange, 'orders');
    }
    await channel.close();
  } finally {
    await connection.close();
  }
  return {
    resources: { exchange, routingKey: 'orders', queuePrefix: `${exchange}:` },
    teardown: () => deleteRabbitmqTopology(context.groups.map(queue), [exchange]),
  };
}
