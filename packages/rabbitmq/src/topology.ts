import type { Channel } from 'amqplib';
import type { ResolvedRabbitMqOptions } from './rabbitmq-options.ts';

/**
 * The names of everything Herald declares on RabbitMQ. Herald topic and group names cannot contain `:`, so `:`
 * separates the parts and no two (topic, group) pairs share a name.
 *
 * ```
 * <topic>                      exchange (direct): routing key = partition number
 * <topic>:unrouted:<N>         exchange (fanout): the alternate exchange, for other routing keys; naming the
 *                              partition count N makes the broker refuse a process configured with another
 * <topic>:<group>:<n>          queue: partition n of the group, single active consumer
 * <topic>:<group>:<n>:lock     queue: its exclusive consumer is the member that owns partition n
 * <topic>:<group>:members      queue: one consumer per live member of the group
 * <topic>:<group>:hungry       queue: one consumer per member holding less than its fair share
 * herald:delay:<ms>            exchange (fanout) + queue with message TTL <ms>, dead-lettering back
 * herald:dead-letter           exchange (direct): routing key = group
 * <group>:dead-letter          queue: the group's dead letters
 * ```
 */
export class Topology {
  readonly prefix: string;
  readonly partitions: number;
  readonly queueType: 'quorum' | 'classic';

  constructor(options: Pick<ResolvedRabbitMqOptions, 'prefix' | 'partitions' | 'queueType'>) {
    this.prefix = options.prefix;
    this.partitions = options.partitions;
    this.queueType = options.queueType;
  }

  exchange(topic: string): string {
    return `${this.prefix}${topic}`;
  }

  unroutedExchange(topic: string): string {
    return `${this.prefix}${topic}:unrouted:${this.partitions}`;
  }

  partitionQueue(topic: string, group: string, partition: number): string {
    return `${this.prefix}${topic}:${group}:${partition}`;
  }

  lockQueue(topic: string, group: string, partition: number): string {
    return `${this.prefix}${topic}:${group}:${partition}:lock`;
  }

  membersQueue(topic: string, group: string): string {
    return `${this.prefix}${topic}:${group}:members`;
  }

  hungryQueue(topic: string, group: string): string {
    return `${this.prefix}${topic}:${group}:hungry`;
  }

  /** Reads a partition queue's name back into its parts (for messages the broker dead-lettered). */
  parsePartitionQueue(name: string): { topic: string; group: string; partition: number } | undefined {
    if (!name.startsWith(this.prefix)) return undefined;
    const parts = name.slice(this.prefix.length).split(':');
    if (parts.length !== 3 || !/^\d+$/.test(parts[2]!)) return undefined;
    return { topic: parts[0]!, group: parts[1]!, partition: Number(parts[2]) };
  }

  delayName(tierMs: number): string {
    return `${this.prefix}herald:delay:${tierMs}ms`;
  }

  get deadLetterExchange(): string {
    return `${this.prefix}herald:dead-letter`;
  }

  deadLetterQueue(group: string): string {
    return `${this.prefix}${group}:dead-letter`;
  }

  /**
   * Options of the topic exchange. The broker checks a redeclaration's alternate exchange (not custom
   * arguments), and its name carries the partition count: a process configured with another count is refused
   * with PRECONDITION_FAILED instead of silently spreading keys differently.
   */
  exchangeOptions(topic: string): { durable: true; alternateExchange: string } {
    return { durable: true, alternateExchange: this.unroutedExchange(topic) };
  }

  /** A durable queue of the configured type; quorum queues dead-letter at least once. */
  durableQueueArguments(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { 'x-queue-type': this.queueType, ...extra };
  }

  partitionQueueArguments(group: string): Record<string, unknown> {
    return this.durableQueueArguments({
      'x-single-active-consumer': true,
      // Messages the broker itself dead-letters (a policy's delivery limit, a length limit) reach the group's
      // dead-letter queue too.
      'x-dead-letter-exchange': this.deadLetterExchange,
      'x-dead-letter-routing-key': group,
    });
  }

  delayQueueArguments(tierMs: number): Record<string, unknown> {
    return this.durableQueueArguments({
      'x-message-ttl': tierMs,
      // The default exchange routes by queue name: the message's routing key is the partition queue it returns to.
      'x-dead-letter-exchange': '',
      ...(this.queueType === 'quorum'
        ? { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' }
        : {}),
    });
  }
}

/** Non-durable helper queues (locks, members, hungry) disappear this long after their last use. */
export const HELPER_QUEUE_EXPIRES_MS = 10 * 60_000;

/** Declaration options of the helper queues: no message ever goes through them; their consumers count. */
export const HELPER_QUEUE_OPTIONS = {
  durable: false,
  arguments: { 'x-queue-type': 'classic', 'x-expires': HELPER_QUEUE_EXPIRES_MS },
} as const;

const MANTISSAS = [10, 12, 15, 20, 25, 30, 40, 50, 60, 80] as const;

/** The delay tiers, ms: 10, 12, 15, 20, 25 … 80 000 000 (about 22 h), each at most 1.5× the one before. */
export const DELAY_TIERS_MS: readonly number[] = (() => {
  const tiers: number[] = [];
  for (let scale = 1; scale <= 1_000_000; scale *= 10) for (const m of MANTISSAS) tiers.push(m * scale);
  return tiers;
})();

/**
 * The delay tier for a redelivery no sooner than `delayMs`: the smallest tier not below it, or the largest tier
 * (the consumer delays again on arrival until the record is due).
 */
export function delayTier(delayMs: number): number {
  for (const tier of DELAY_TIERS_MS) if (tier >= delayMs) return tier;
  return DELAY_TIERS_MS[DELAY_TIERS_MS.length - 1]!;
}

/** Records every exchange and queue a transport declares, so tools and tests can list or remove them. */
export class DeclaredTopology {
  readonly exchanges = new Set<string>();
  readonly queues = new Set<string>();
}

/** Declares the topic's exchanges (idempotent). */
export async function declareTopic(
  channel: Channel,
  topology: Topology,
  topic: string,
  declared: DeclaredTopology,
): Promise<void> {
  const unrouted = topology.unroutedExchange(topic);
  await channel.assertExchange(unrouted, 'fanout', { durable: true });
  declared.exchanges.add(unrouted);
  const exchange = topology.exchange(topic);
  await channel.assertExchange(exchange, 'direct', topology.exchangeOptions(topic));
  declared.exchanges.add(exchange);
}

/** Declares the dead-letter exchange and the group's dead-letter queue (idempotent). */
export async function declareDeadLetters(
  channel: Channel,
  topology: Topology,
  group: string,
  declared: DeclaredTopology,
): Promise<void> {
  await channel.assertExchange(topology.deadLetterExchange, 'direct', { durable: true });
  declared.exchanges.add(topology.deadLetterExchange);
  const queue = topology.deadLetterQueue(group);
  await channel.assertQueue(queue, { durable: true, arguments: topology.durableQueueArguments() });
  await channel.bindQueue(queue, topology.deadLetterExchange, group);
  declared.queues.add(queue);
}

/**
 * Declares what a group needs on a topic (idempotent): the topic's exchanges, one queue per partition bound to
 * its partition number (partition 0 also takes what other clients publish with other routing keys), and the
 * dead letters.
 */
export async function declareGroup(
  channel: Channel,
  topology: Topology,
  topic: string,
  group: string,
  declared: DeclaredTopology,
): Promise<void> {
  await declareTopic(channel, topology, topic, declared);
  await declareDeadLetters(channel, topology, group, declared);
  const exchange = topology.exchange(topic);
  for (let partition = 0; partition < topology.partitions; partition++) {
    const queue = topology.partitionQueue(topic, group, partition);
    await channel.assertQueue(queue, { durable: true, arguments: topology.partitionQueueArguments(group) });
    await channel.bindQueue(queue, exchange, String(partition));
    if (partition === 0) await channel.bindQueue(queue, topology.unroutedExchange(topic), '');
    declared.queues.add(queue);
  }
}

/** Declares one delay tier (idempotent). */
export async function declareDelayTier(
  channel: Channel,
  topology: Topology,
  tierMs: number,
  declared: DeclaredTopology,
): Promise<void> {
  const name = topology.delayName(tierMs);
  await channel.assertExchange(name, 'fanout', { durable: true });
  declared.exchanges.add(name);
  await channel.assertQueue(name, { durable: true, arguments: topology.delayQueueArguments(tierMs) });
  await channel.bindQueue(name, name, '');
  declared.queues.add(name);
}
