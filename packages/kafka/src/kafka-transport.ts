import {
  configError,
  ErrorCodes,
  HeraldError,
  type CloseOptions,
  type Delivery,
  type PublishReceipt,
  type SeekTarget,
  type SubscribeOptions,
  type Subscription,
  type Transport,
  type TransportCapabilities,
  type TransportRecord,
} from '@herald/core';
import { Admin, ListOffsetTimestamps, ProduceAcks, Producer } from '@platformatic/kafka';
import { encodeHeaders } from './cloudevents-binding.ts';
import { eventTopicSpec, type KafkaContext } from './kafka-context.ts';
import { KafkaDeadLetterQueue } from './kafka-dead-letters.ts';
import { closedError, transportError } from './kafka-errors.ts';
import { resolveKafkaOptions, type KafkaTransportOptions } from './kafka-options.ts';
import { KafkaSubscription } from './kafka-subscription.ts';
import { partitionForKey, RoundRobin } from './partitioner.ts';
import { SendQueue, type OutgoingRecord } from './send-queue.ts';
import { TopicAdmin } from './topic-admin.ts';
import { checkTopic, TopicNames } from './topic-names.ts';

/** What the Kafka transport guarantees (see docs/transports/kafka.md for how). */
export const KAFKA_CAPABILITIES: TransportCapabilities = {
  persistent: true,
  crossProcess: true,
  orderedPerKey: true,
  delayedDelivery: true,
  orderedRedelivery: true,
  deadLetterQueue: true,
  replay: true,
  // The client heartbeats on a timer of its own and has no poll interval to exceed: a handler that runs past the
  // session timeout keeps its partitions (a rebalance can still move them; `Delivery.signal` then aborts).
  longHandlers: true,
  // Kafka has no delayed records: a record is readable once appended. Holding it in the producer would lose it
  // with the process, and a "not before" check in the consumer would stop its partition. Scheduled events go
  // through an outbox, whose relay holds the row until it is due.
  scheduledDelivery: false,
};

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * A Herald transport on Apache Kafka (`@platformatic/kafka`). Topics are created on first use with
 * `partitions` partitions; the partition key is the record key, placed with Kafka's murmur2 partitioner so plain
 * Kafka clients agree; events are CloudEvents in the Kafka binding's binary mode. Publishing uses one idempotent
 * producer with `acks=all`. Each subscription is a consumer-group member: order per key, parallel across keys,
 * commits below the oldest unsettled record, delayed redelivery through a per-group retry topic that parks only
 * the failing key, a per-group dead-letter topic, and `seek` for groups with no active member.
 *
 * Options are checked at once: a bad one throws `HERALD_CONFIG`. Nothing connects until first use.
 */
export function kafka(options: KafkaTransportOptions): Transport {
  const o = resolveKafkaOptions(options);
  const names: TopicNames = new TopicNames(o.topicPrefix);
  const clientOptions: KafkaContext['clientOptions'] = (role) => ({
    clientId: `${o.clientId}-${role}`,
    bootstrapBrokers: [...o.brokers],
    connectTimeout: o.connectTimeoutMs,
    requestTimeout: o.requestTimeoutMs,
    timeout: o.requestTimeoutMs,
    retries: o.retries,
    retryDelay: o.retryDelayMs,
    ...(o.tls === undefined ? {} : { tls: o.tls }),
    ...(o.sasl === undefined ? {} : { sasl: o.sasl }),
  });
  const reportError = (scope: string, error: unknown): void => {
    if (options.onError !== undefined) options.onError(error, scope);
    else console.error(`[herald] kafka ${scope}:`, error);
  };
  const admin = new Admin(clientOptions('admin'));
  admin.on('error', (error: unknown) => reportError('admin', error));
  const topics = new TopicAdmin(admin, o.replicationFactor);
  const sender = new SendQueue(() => {
    const producer = new Producer({
      ...clientOptions('producer'),
      idempotent: true,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
    });
    producer.on('error', (error: unknown) => reportError('producer', error));
    return producer;
  }, o.maxBatchBytes);
  const ctx: KafkaContext = { options: o, names, topics, sender, clientOptions, reportError };
  const deadLetters = new KafkaDeadLetterQueue(ctx);
  const subscriptions = new Set<KafkaSubscription>();
  const roundRobin = new RoundRobin();
  let closed = false;
  let closing: Promise<void> | undefined;

  async function publish(records: readonly TransportRecord[]): Promise<PublishReceipt[]> {
    if (closed) throw closedError('publish');
    if (records.length === 0) return [];
    const counts = new Map<string, number>();
    for (const record of records) {
      if (counts.has(record.topic)) continue;
      checkTopic(record.topic);
      counts.set(record.topic, 0);
    }
    await Promise.all(
      [...counts.keys()].map(async (topic) => {
        counts.set(topic, await topics.ensure(topic, eventTopicSpec(o)));
      }),
    );
    const outgoing: OutgoingRecord[] = records.map((record) => {
      const partitions = counts.get(record.topic)!;
      const key = record.key === undefined ? undefined : Buffer.from(record.key, 'utf8');
      return {
        topic: record.topic,
        partition:
          key === undefined ? roundRobin.next(record.topic, partitions) : partitionForKey(key, partitions),
        key,
        value: toBuffer(record.data),
        headers: encodeHeaders(record.attributes),
      };
    });
    const offsets = await sender.send(outgoing);
    return outgoing.map((record, i) => ({
      topic: record.topic,
      partition: record.partition,
      offset: offsets[i]!.toString(),
    }));
  }

  function subscribe(
    subscribeOptions: SubscribeOptions,
    onDelivery: (delivery: Delivery) => Promise<void>,
  ): Subscription {
    if (closed) throw closedError('subscribe');
    names.checkGroup(subscribeOptions.group);
    if (!Array.isArray(subscribeOptions.topics) || subscribeOptions.topics.length === 0) {
      throw configError('topics', 'at least one topic', subscribeOptions.topics);
    }
    for (const topic of subscribeOptions.topics) checkTopic(topic);
    const { startFrom } = subscribeOptions;
    if (startFrom !== undefined && startFrom !== 'earliest' && startFrom !== 'latest') {
      throw configError('startFrom', '"earliest" or "latest"', startFrom);
    }
    const subscription = new KafkaSubscription(ctx, subscribeOptions, onDelivery);
    subscriptions.add(subscription);
    subscription.start();
    return {
      ready: subscription.ready,
      close: async (closeOptions?: CloseOptions) => {
        await subscription.close(closeOptions);
        subscriptions.delete(subscription);
      },
    };
  }

  /**
   * Commits new positions for `group` on every partition of `topic`. Kafka accepts offsets from outside a group
   * only while it has no member, so this refuses (`HERALD_UNSUPPORTED`) while any is active. Records waiting in
   * the group's retry topic are not affected.
   */
  async function seek(group: string, topic: string, target: SeekTarget): Promise<void> {
    if (closed) throw closedError('seek');
    names.checkGroup(group);
    checkTopic(topic);
    let members: number;
    try {
      const described = await admin.describeGroups({ groups: [group] });
      members = described.get(group)?.members.size ?? 0;
    } catch (error) {
      throw transportError(`describe group "${group}"`, error);
    }
    if (members > 0) {
      throw new HeraldError(
        ErrorCodes.UNSUPPORTED,
        `Cannot seek group "${group}": it has ${members} active member(s), and Kafka moves a group's offsets ` +
          'only while it is empty. Close its subscriptions first.',
        { details: { group, topic, members } },
      );
    }
    const partitions = await topics.ensure(topic, eventTopicSpec(o));
    const indexes = Array.from({ length: partitions }, (_, i) => i);
    const offsetsAt = async (timestamp: bigint): Promise<bigint[]> => {
      const listed = await admin.listOffsets({
        topics: [
          { name: topic, partitions: indexes.map((partitionIndex) => ({ partitionIndex, timestamp })) },
        ],
      });
      const result = indexes.map(() => -1n);
      for (const p of listed.find((t) => t.name === topic)?.partitions ?? [])
        result[p.partitionIndex] = p.offset;
      return result;
    };
    let positions: bigint[];
    try {
      const earliest = await offsetsAt(ListOffsetTimestamps.EARLIEST);
      const latest = await offsetsAt(ListOffsetTimestamps.LATEST);
      if (target === 'earliest') positions = earliest;
      else if (target === 'latest') positions = latest;
      else if ('offset' in target) {
        if (!/^\d+$/.test(target.offset))
          throw configError('target.offset', 'a decimal offset', target.offset);
        const wanted = BigInt(target.offset);
        positions = indexes.map((i) =>
          wanted < earliest[i]! ? earliest[i]! : wanted > latest[i]! ? latest[i]! : wanted,
        );
      } else {
        const time = target.time.getTime();
        if (!Number.isFinite(time)) throw configError('target.time', 'a valid Date', target.time);
        const atTime = await offsetsAt(BigInt(time));
        // No record at or after the time: the group starts after everything there is.
        positions = indexes.map((i) => (atTime[i]! >= 0n ? atTime[i]! : latest[i]!));
      }
      await admin.alterConsumerGroupOffsets({
        groupId: group,
        topics: [
          {
            name: topic,
            partitionOffsets: indexes.map((partition) => ({ partition, offset: positions[partition]! })),
          },
        ],
      });
    } catch (error) {
      if (error instanceof HeraldError) throw error;
      throw transportError(`seek group "${group}" on "${topic}"`, error);
    }
  }

  function close(closeOptions?: CloseOptions): Promise<void> {
    closing ??= (async () => {
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.close(closeOptions)));
      subscriptions.clear();
      await sender.close().catch((error: unknown) => reportError('close producer', error));
      await deadLetters.close();
      await admin.close().catch((error: unknown) => reportError('close admin', error));
    })();
    return closing;
  }

  return {
    name: 'kafka',
    capabilities: KAFKA_CAPABILITIES,
    deadLetters,
    publish,
    subscribe,
    seek,
    close,
  };
}
