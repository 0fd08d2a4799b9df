import type { Transport } from '@herald/core';

/**
 * What an ephemeral consumer group (a `herald tail`) leaves on each broker, and how the CLI removes it. The
 * Transport interface has no "delete a group", so the removal talks to the broker with its own client, by the
 * names the transport package documents. Kept in one table so `--help`, the docs and the code say the same.
 */
export const EPHEMERAL_GROUP_FOOTPRINT: Readonly<Record<string, string>> = {
  memory: 'nothing (in-process)',
  sqlite:
    "the group's committed offset (one small row per partition) in the SQLite file: the sqlite transport offers no way to delete a group",
  kafka: 'nothing: the consumer group and its <prefix>.<group>.retry / .dlq topics are deleted on exit',
  rabbitmq:
    "nothing: the group's partition, lock, members, hungry and dead-letter queues are deleted on exit",
  nats: "nothing: the group's durable consumers (topic and replay streams) and its claims are deleted on exit",
  sqs: "the group's SQS queue, its dead-letter queue and their SNS subscriptions: the CLI does not delete them yet (remove queues named after herald-tail-* by hand)",
};

/** What {@link removeEphemeralGroup} did. */
export interface GroupRemoval {
  /** What it deleted, as broker object names. */
  readonly removed: readonly string[];
  /** What stays on the broker (from {@link EPHEMERAL_GROUP_FOOTPRINT}), empty when nothing does. */
  readonly leftBehind: string | undefined;
}

/** Where the group lives: the URL and the broker-side names (with `HERALD_TOPIC_PREFIX` applied). */
export interface EphemeralGroup {
  /** The transport as opened from the URL (not wrapped by `withTopicPrefix`). */
  readonly transport: Transport;
  readonly url: string;
  /** The group's name on the broker. */
  readonly group: string;
  /** The topics' names on the broker. */
  readonly topics: readonly string[];
}

/**
 * Deletes what an ephemeral group created on the broker, once its subscription is closed: on Kafka the group and
 * its retry and dead-letter topics, on RabbitMQ the group's queues, on NATS its consumers and claims. On
 * memory there is nothing to delete; on sqlite and SQS it says what stays ({@link EPHEMERAL_GROUP_FOOTPRINT}).
 * Rejects when the broker refuses; the caller reports that and the names.
 */
export async function removeEphemeralGroup(target: EphemeralGroup): Promise<GroupRemoval> {
  switch (target.transport.name) {
    case 'kafka':
      return { removed: await removeKafkaGroup(target), leftBehind: undefined };
    case 'rabbitmq':
      return { removed: await removeRabbitMqGroup(target), leftBehind: undefined };
    case 'nats':
      return { removed: await removeNatsGroup(target), leftBehind: undefined };
    case 'memory':
      return { removed: [], leftBehind: undefined };
    default:
      return {
        removed: [],
        leftBehind:
          EPHEMERAL_GROUP_FOOTPRINT[target.transport.name] ??
          `whatever the ${target.transport.name} transport keeps for a group`,
      };
  }
}

async function removeKafkaGroup({ url, group }: EphemeralGroup): Promise<string[]> {
  const { parseKafkaUrl, resolveKafkaOptions, TopicNames } = await import('@herald/kafka');
  const { Admin } = await import('@platformatic/kafka');
  const options = resolveKafkaOptions(parseKafkaUrl(url));
  const names = new TopicNames(options.topicPrefix);
  const admin = new Admin({ clientId: 'herald-cli', bootstrapBrokers: [...options.brokers] });
  try {
    await admin.deleteGroups({ groups: [group] });
    const topics = [names.retry(group), names.deadLetter(group)];
    const existing = new Set(await admin.listTopics());
    const ours = topics.filter((t) => existing.has(t));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
    return [`group ${group}`, ...ours.map((t) => `topic ${t}`)];
  } finally {
    await admin.close();
  }
}

async function removeRabbitMqGroup({ transport, url, group }: EphemeralGroup): Promise<string[]> {
  const { parseAmqpUrl } = await import('@herald/rabbitmq');
  const { connect } = await import('amqplib');
  const declared = (transport as Partial<import('@herald/rabbitmq').RabbitMqTransport>).declaredTopology?.();
  // Only queues named after this group: `<topic>:<group>:…` and `<group>:dead-letter`, the group being unique.
  const queues = (declared?.queues ?? []).filter(
    (q) => q.includes(`:${group}:`) || q.endsWith(`${group}:dead-letter`),
  );
  if (queues.length === 0) return [];
  const connection = await connect(parseAmqpUrl(url).url);
  try {
    const channel = await connection.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
    await channel.close();
  } finally {
    await connection.close();
  }
  return queues.map((q) => `queue ${q}`);
}

async function removeNatsGroup({ url, group, topics }: EphemeralGroup): Promise<string[]> {
  const { parseNatsUrl, resolveNatsOptions, Names, escapeName } = await import('@herald/nats');
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const options = resolveNatsOptions(parseNatsUrl(url));
  const names = new Names(options.prefix);
  const escaped = escapeName(group);
  const nc = await connect({ servers: [...options.servers] });
  const removed: string[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    const streams = [...topics.map((t) => names.topicStream(t)), names.replayStream];
    for (const stream of streams) {
      const consumers: string[] = [];
      try {
        for await (const info of jsm.consumers.list(stream)) consumers.push(info.name);
      } catch {
        continue; // the stream does not exist: nothing of the group in it
      }
      for (const consumer of consumers.filter((c) => c.startsWith(`${escaped}-`))) {
        await jsm.consumers.delete(stream, consumer);
        removed.push(`consumer ${stream}/${consumer}`);
      }
    }
    try {
      await jsm.streams.purge(names.groupStream, { filter: `${options.prefix}.groups.*.${escaped}.>` });
      removed.push(`group state ${names.groupStream} ${options.prefix}.groups.*.${escaped}.>`);
    } catch {
      // no group stream: the group kept no state
    }
  } finally {
    await nc.close();
  }
  return removed;
}
