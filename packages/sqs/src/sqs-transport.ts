import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
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
import { SqsDeadLetters } from './dead-letters.ts';
import { GroupConsumer } from './group-consumer.ts';
import { Names } from './names.ts';
import { QueueOps, ReleasedReceives } from './queue-ops.ts';
import { SnsPublisher } from './sns-publisher.ts';
import { closedError } from './sqs-errors.ts';
import { resolveOptions, type ResolvedSqsOptions, type SqsTransportOptions } from './sqs-options.ts';
import { Topology } from './topology.ts';

/** A {@link Transport} on SNS/SQS, with the operations a deployment needs besides. */
export interface SqsTransport extends Transport {
  readonly deadLetters: DeadLetterQueue;
  /** The options in force, defaults applied. */
  readonly options: ResolvedSqsOptions;
  /** The names of the resources behind a topic and a group, for infrastructure code (`provision: false`). */
  readonly names: Names;
  /**
   * Creates (or with `provision: false` checks) a group's queue on a topic, subscribed to the topic, and the
   * group's dead-letter queue, ahead of its first member. SNS delivers only to queues subscribed when an event is
   * published: declare the groups at deployment, and events published before a service first starts wait for it.
   * Rejects with `HERALD_CONFIG` naming what is missing or refused.
   */
  declareGroup(topic: string, group: string): Promise<void>;
  /** Creates (or checks) a topic's SNS topic. */
  declareTopic(topic: string): Promise<void>;
  /** Every topic ARN and queue URL this transport has created or found, by name (for tools, and tests that clean up). */
  declaredTopology(): { topics: Record<string, string>; queues: Record<string, string> };
}

function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

/**
 * The client configuration: region, credentials and endpoint from the options, else from the AWS SDK's chain.
 * Against a loopback endpoint (a local emulator) a missing region defaults to `us-east-1`, and without
 * credentials in the options or the environment (`AWS_ACCESS_KEY_ID`) dummy ones are used: emulators do not check
 * them, a developer should not need an AWS profile to run locally, and the chain would otherwise end by probing
 * the instance metadata service.
 */
function clientConfig(options: SqsTransportOptions, resolved: ResolvedSqsOptions): SQSClientConfig {
  const config: SQSClientConfig = {};
  const local = resolved.endpoint !== undefined && isLoopback(resolved.endpoint);
  if (resolved.endpoint !== undefined) config.endpoint = resolved.endpoint;
  const region =
    resolved.region ??
    (local ? (process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1') : undefined);
  if (region !== undefined) config.region = region;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  else if (local && (process.env.AWS_ACCESS_KEY_ID ?? '') === '') {
    config.credentials = { accessKeyId: 'herald-local', secretAccessKey: 'herald-local' };
  }
  return config;
}

/**
 * The SNS/SQS transport, on the AWS SDK v3. An SNS topic per Herald topic; per consumer group an SQS queue on each
 * of its topics, subscribed with raw message delivery, whose redrive policy points to the group's dead-letter
 * queue. Events travel as the message body with their CloudEvents context in message attributes (see
 * `message-binding.ts`).
 *
 * Guarantees (the contract suite tests them): at-least-once delivery to every group, each event to one member of
 * a group, delayed redelivery that does not block other keys (visibility timeout), an operable dead-letter queue
 * whose replay reaches only the failing group. With `fifo: true` (the default) also order per key with
 * parallelism across keys (message group = key), a retried event kept ahead of its key, and deduplication of a
 * publish retried within five minutes. No replay from an offset: queues forget what was deleted.
 *
 * Options are checked at once (`HERALD_CONFIG`); nothing is sent to AWS before the first publish or subscribe.
 */
export function sqs(options: SqsTransportOptions = {}): SqsTransport {
  const resolved = resolveOptions(options);
  const onError = options.onError ?? ((error: unknown) => console.error('[herald] sqs:', error));
  if (typeof onError !== 'function') throw configError('onError', 'a function', onError);
  const config = clientConfig(options, resolved);
  const sqsClient = options.sqsClient ?? new SQSClient(config);
  const snsClient = options.snsClient ?? new SNSClient(config);
  const names = new Names(resolved.prefix, resolved.fifo);
  const topology = new Topology({ sqs: sqsClient, sns: snsClient, names, options: resolved });
  const ops = new QueueOps(sqsClient);
  const publisher = new SnsPublisher(snsClient, topology, resolved.fifo);
  const consumers = new Set<GroupConsumer>();
  const groups = new Set<string>();
  const deadLetters = new SqsDeadLetters({
    sqs: sqsClient,
    topology,
    names,
    options: resolved,
    ops,
    groups: () => groups,
  });
  const released = new ReleasedReceives();
  let closing: Promise<void> | undefined;

  const capabilities: TransportCapabilities = {
    persistent: true,
    crossProcess: true,
    orderedPerKey: resolved.fifo,
    delayedDelivery: true,
    orderedRedelivery: resolved.fifo,
    deadLetterQueue: true,
    replay: false,
    // Held messages' visibility is extended every third of the visibility timeout (up to AWS's 12 hours from
    // the receive, after which `Delivery.signal` aborts).
    longHandlers: true,
    // SQS delays a message per message (`DelaySeconds`, at most 15 min) only on SendMessage to a standard queue;
    // Herald publishes through SNS, which fans out to each group's queue and has no per-message delay (nor have
    // FIFO queues). Scheduled events go through an outbox, whose relay holds the row until it is due.
    scheduledDelivery: false,
  };

  const assertOpen = (what: string): void => {
    if (closing !== undefined) throw closedError(what);
  };

  return {
    name: 'sqs',
    capabilities,
    deadLetters,
    options: resolved,
    names,

    async declareGroup(topic, group) {
      assertOpen('declaring');
      checkName('topic', topic);
      checkName('group', group);
      groups.add(group);
      await topology.groupQueues(topic, group);
    },

    async declareTopic(topic) {
      assertOpen('declaring');
      checkName('topic', topic);
      await topology.topicArn(topic);
    },

    declaredTopology() {
      return {
        topics: Object.fromEntries(topology.declared.topics),
        queues: Object.fromEntries(topology.declared.queues),
      };
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
        { sqs: sqsClient, topology, options: resolved, ops, deadLetters, released, onError },
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
        },
      };
    },

    close(closeOptions?: CloseOptions) {
      closing ??= (async () => {
        const all = [...consumers];
        await Promise.all(all.map((c) => c.close(closeOptions)));
        // Receives still waiting return within `waitTimeSeconds` and hand back what they got; past the close
        // timeout they are cut off (what they were about to receive reappears after the visibility timeout).
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all(all.map((c) => c.finished)),
          new Promise((resolve) => (timer = setTimeout(resolve, closeOptions?.timeoutMs ?? 10_000))),
        ]);
        clearTimeout(timer);
        for (const consumer of all) consumer.abortReceives();
        await ops.drain();
        if (options.sqsClient === undefined) sqsClient.destroy();
        if (options.snsClient === undefined) snsClient.destroy();
      })();
      return closing;
    },
  };
}
