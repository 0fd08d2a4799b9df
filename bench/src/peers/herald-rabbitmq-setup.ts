import { Topology } from '@herald/rabbitmq';
import type { TrialContext, TrialResources } from '../system.ts';
import { deleteRabbitmqTopology } from './rabbitmq-config.ts';

/** Partition queues per (topic, group): Herald's default. */
export const HERALD_RABBITMQ_PARTITIONS = 8;

/**
 * Nothing to declare: Herald declares its topology itself. The trial's names get a prefix of their own, and the
 * teardown deletes every queue and exchange Herald declares for the topic and the trial's groups.
 */
export function heraldRabbitmqSetup(context: TrialContext): Promise<TrialResources> {
  const prefix = `hb-${context.name}.`;
  const topic = 'orders';
  const t = new Topology({ prefix, partitions: HERALD_RABBITMQ_PARTITIONS, queueType: 'quorum' });
  const partitions = Array.from({ length: HERALD_RABBITMQ_PARTITIONS }, (_, p) => p);
  const queues = context.groups.flatMap((group) => [
    ...partitions.flatMap((p) => [t.partitionQueue(topic, group, p), t.lockQueue(topic, group, p)]),
    t.membersQueue(topic, group),
    t.hungryQueue(topic, group),
    t.deadLetterQueue(group),
  ]);
  const exchanges = [t.exchange(topic), t.unroutedExchange(topic), t.deadLetterExchange];
  return Promise.resolve({
    resources: { prefix, topic },
    teardown: () => deleteRabbitmqTopology(queues, exchanges),
  });
}
