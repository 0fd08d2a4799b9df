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
  sqs: "nothing: the group's SQS queues (one per topic, and its dead-letter queue) and their SNS subscriptions are deleted on exit",
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
 * its retry and dead-letter topics, on RabbitMQ the group's queues, on NATS its consumers and claims, on SQS its
 * queues and their SNS subscriptions. On memory there is nothing to delete; on sqlite it says what stays
 * ({@link EPHEMERAL_GROUP_FOOTPRINT}).
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
    case 'sqs':
      return { removed: await removeSqsGroup(target), leftBehind: undefined };
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

/** The SDK client configuration the sqs transport uses for `url` (loopback emulators get a region and dummy keys). */
function sqsClientConfig(options: import('@herald/sqs').ResolvedSqsOptions): {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
} {
  const endpoint = options.endpoint;
  const host = endpoint === undefined ? '' : new URL(endpoint).hostname;
  const local = host === 'localhost' || host === '[::1]' || host.startsWith('127.');
  const region =
    options.region ??
    (local ? (process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1') : undefined);
  return {
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(region === undefined ? {} : { region }),
    ...(local && (process.env.AWS_ACCESS_KEY_ID ?? '') === ''
      ? { credentials: { accessKeyId: 'herald-local', secretAccessKey: 'herald-local' } }
      : {}),
  };
}

async function removeSqsGroup({ transport, url, group }: EphemeralGroup): Promise<string[]> {
  const { escapeName, parseSqsUrl, resolveOptions } = await import('@herald/sqs');
  const { SQSClient, DeleteQueueCommand, GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
  const { SNSClient, ListSubscriptionsByTopicCommand, UnsubscribeCommand } =
    await import('@aws-sdk/client-sns');
  const declared = (transport as Partial<import('@herald/sqs').SqsTransport>).declaredTopology?.();
  if (declared === undefined) return [];
  const escaped = escapeName(group);
  // Only the queues named after this group (the group name is unique); the topics are shared and stay.
  const queues = Object.entries(declared.queues).filter(([name]) => name.includes(escaped));
  if (queues.length === 0) return [];
  const config = sqsClientConfig(resolveOptions(parseSqsUrl(url)));
  const sqs = new SQSClient(config);
  const sns = new SNSClient(config);
  const removed: string[] = [];
  try {
    const arns = new Set<string>();
    for (const [, queueUrl] of queues) {
      const attributes = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
      );
      const arn = attributes.Attributes?.QueueArn;
      if (arn !== undefined) arns.add(arn);
    }
    for (const topicArn of Object.values(declared.topics)) {
      let next: string | undefined;
      do {
        const page = await sns.send(
          new ListSubscriptionsByTopicCommand({
            TopicArn: topicArn,
            ...(next === undefined ? {} : { NextToken: next }),
          }),
        );
        for (const subscription of page.Subscriptions ?? []) {
          if (
            subscription.Endpoint !== undefined &&
            arns.has(subscription.Endpoint) &&
            subscription.SubscriptionArn
          ) {
            await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscription.SubscriptionArn }));
            removed.push(`subscription ${subscription.SubscriptionArn}`);
          }
        }
        next = page.NextToken;
      } while (next !== undefined);
    }
    for (const [name, queueUrl] of queues) {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      removed.push(`queue ${name}`);
    }
  } finally {
    sqs.destroy();
    sns.destroy();
  }
  return removed;
}
