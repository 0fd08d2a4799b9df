import {
  checkName,
  configError,
  type CloseOptions,
  type DeadLetterQueue,
  type Delivery,
  type PublishReceipt,
  type SubscribeOptions,
  type Subscription,
  type Transport,
  type TransportCapabilities,
  type TransportRecord,
} from '@herald/core';
import { ConfirmPublisher } from './confirm-publisher.ts';
import { AmqpConnection } from './connection.ts';
import { RabbitMqDeadLetters } from './dead-letter-queue.ts';
import { GroupConsumer } from './group-consumer.ts';
import { closedError, toHeraldError } from './rabbitmq-errors.ts';
import { connectionUrl, resolveOptions, type RabbitMqOptions } from './rabbitmq-options.ts';
import { declareGroup, DeclaredTopology, Topology } from './topology.ts';

/** A {@link Transport} on RabbitMQ, with the operations a RabbitMQ deployment needs besides. */
export interface RabbitMqTransport extends Transport {
  readonly deadLetters: DeadLetterQueue;
  /**
   * Opens the connections now rather than on first use. Rejects with `HERALD_TRANSPORT` when the broker cannot
   * be reached (permanent when it refuses the credentials), so a service can fail at start-up.
   */
  connect(): Promise<void>;
  /**
   * Declares a group's queues on a topic ahead of its first member. RabbitMQ routes an event only to queues that
   * exist when it is published: declare the groups at deployment, and events published before a service first
   * starts wait for it.
   */
  declareGroup(topic: string, group: string): Promise<void>;
  /** Every exchange and queue this transport has declared, for tools (and tests that clean up). */
  declaredTopology(): { exchanges: string[]; queues: string[] };
}

/**
 * The RabbitMQ transport, on amqplib. Durable topology: an exchange per topic, `partitions` quorum queues per
 * (topic, group) each consumed by one member at a time, delayed redelivery through TTL queues that return a copy
 * to the failing group's partition only, a dead-letter exchange and a queue per group. Publisher confirms,
 * manual acks, prefetch, reconnection. Events travel in the CloudEvents AMQP binding's binary mode.
 *
 * Guarantees (the contract suite tests them): at-least-once delivery to every group, each event to one member of
 * a group, order per key with parallelism across keys, delayed redelivery that does not block other keys (a
 * redelivered event goes behind later events of its key: `orderedRedelivery` is false), an operable dead-letter
 * queue whose replay reaches only the failing group. No replay from an offset: queues forget what was acked.
 *
 * Options are checked at once (`HERALD_CONFIG`); the connections open on first use or on {@link
 * RabbitMqTransport.connect}.
 */
export function rabbitmq(options: RabbitMqOptions): RabbitMqTransport {
  const resolved = resolveOptions(options);
  const onError = options.onError ?? ((error: unknown) => console.error('[herald] rabbitmq:', error));
  if (typeof onError !== 'function') throw configError('onError', 'a function', onError);
  const url = connectionUrl(resolved);
  const connection = (role: string): AmqpConnection =>
    new AmqpConnection({
      url,
      connectAttempts: resolved.connectAttempts,
      name: `${resolved.connectionName} (${role})`,
      tls: resolved.tls,
      onError,
    });
  // RabbitMQ blocks publishing connections under memory or disk pressure: consuming (and acking) must go on.
  const publishing = connection('publish');
  const consuming = connection('consume');
  const topology = new Topology(resolved);
  const declared = new DeclaredTopology();
  const publisher = new ConfirmPublisher(publishing, topology, declared, resolved.publishTimeoutMs);
  const consumers = new Set<GroupConsumer>();
  const groups = new Set<string>();
  const deadLetters = new RabbitMqDeadLetters({
    connection: consuming,
    publisher,
    topology,
    groups: () => groups,
  });
  let closing: Promise<void> | undefined;

  const capabilities: TransportCapabilities = {
    persistent: true,
    crossProcess: true,
    orderedPerKey: true,
    delayedDelivery: true,
    orderedRedelivery: false,
    deadLetterQueue: true,
    replay: false,
    // AMQP 0-9-1 has no way to extend a delivery's lease: the broker's delivery acknowledgement timeout
    // (`consumer_timeout`, 30 min by default) closes the channel of a handler that outlives it, and the message is
    // redelivered. RabbitMQ 3.12+ can raise it per queue (`x-consumer-timeout` argument or `consumer-timeout`
    // policy); 3.10, the tested broker, only in the server's configuration. Nothing the client does can keep it,
    // so this is not promised; a closed channel aborts `Delivery.signal`.
    longHandlers: false,
    // RabbitMQ delays messages natively only with the community rabbitmq_delayed_message_exchange plugin, which
    // the tested broker (3.10.8, Debian) does not ship; the delay tiers Herald uses for retries re-enter one
    // group's queue, not the topic. Scheduled events go through an outbox, whose relay holds the row until due.
    scheduledDelivery: false,
  };

  const assertOpen = (what: string): void => {
    if (closing !== undefined) throw closedError(what);
  };

  return {
    name: 'rabbitmq',
    capabilities,
    deadLetters,

    async connect() {
      assertOpen('connecting');
      await Promise.all([publishing.open(), consuming.open()]);
    },

    async declareGroup(topic, group) {
      assertOpen('declaring');
      checkName('topic', topic);
      checkName('group', group);
      groups.add(group);
      const channel = await consuming.channel();
      try {
        await declareGroup(channel, topology, topic, group, declared);
      } catch (error) {
        throw toHeraldError(error, `declaring the queues of group "${group}" on "${topic}"`);
      } finally {
        await channel.close().catch(() => undefined);
      }
    },

    declaredTopology() {
      return { exchanges: [...declared.exchanges], queues: [...declared.queues] };
    },

    async publish(records: readonly TransportRecord[]): Promise<PublishReceipt[]> {
      assertOpen('publishing');
      if (records.length === 0) return [];
      return publisher.publish(records);
    },

    subscribe(
      subscribeOptions: SubscribeOptions,
      onDelivery: (delivery: Delivery) => Promise<void>,
    ): Subscription {
      assertOpen('subscribing');
      checkName('group', subscribeOptions.group);
      if (subscribeOptions.topics.length === 0) throw configError('topics', 'at least one topic', []);
      for (const topic of subscribeOptions.topics) checkName('topics', topic);
      const consumer = new GroupConsumer(
        {
          connection: consuming,
          publisher,
          topology,
          declared,
          prefetch: resolved.prefetch,
          rebalanceIntervalMs: resolved.rebalanceIntervalMs,
          onError,
        },
        subscribeOptions,
        onDelivery,
      );
      groups.add(subscribeOptions.group);
      consumers.add(consumer);
      consumer.start();
      return {
        ready: consumer.ready,
        close: async (closeOptions?: CloseOptions) => {
          await consumer.close(closeOptions);
          consumers.delete(consumer);
        },
      };
    },

    close(closeOptions?: CloseOptions) {
      closing ??= (async () => {
        await Promise.all([...consumers].map((c) => c.close(closeOptions)));
        consumers.clear();
        await publisher.close();
        await Promise.all([publishing.close(), consuming.close()]);
      })();
      return closing;
    },
  };
}
