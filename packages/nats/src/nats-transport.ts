import {
  checkName,
  configError,
  NAME_PATTERN,
  ErrorCodes,
  HeraldError,
  partitionFor,
  type CloseOptions,
  type DeadLetterQueue,
  type Delivery,
  type PublishReceipt,
  type SeekTarget,
  type SubscribeOptions,
  type Subscription,
  type Transport,
  type TransportCapabilities,
  type TransportRecord,
} from '@herald/core';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { encodeHeaders, percentEncode } from './cloudevents-binding.ts';
import { NatsDeadLetters } from './dead-letters.ts';
import { GroupState } from './group-state.ts';
import { Names } from './names.ts';
import type { NatsContext } from './nats-context.ts';
import { mapErrors, transportError } from './nats-errors.ts';
import { resolveNatsOptions, type NatsTransportOptions } from './nats-options.ts';
import { NatsSubscription } from './nats-subscription.ts';
import { Topology } from './topology.ts';

/** Topic names Herald accepts (as event definitions do): they become subject tokens and stream names. */

function checkTopic(topic: string): void {
  if (typeof topic !== 'string' || !NAME_PATTERN.test(topic) || topic.includes('..') || topic.endsWith('.')) {
    throw configError('topic', 'a name of letters, digits, ".", "_" or "-" (no empty subject token)', topic);
  }
}

async function open(options: ReturnType<typeof resolveNatsOptions>): Promise<NatsContext> {
  const nc =
    options.connection ??
    (await mapErrors(`connecting to ${options.servers.join(',')}`, () =>
      // A service transport keeps reconnecting; a server unreachable at start-up still fails `connect` at once.
      connect({
        name: 'herald',
        maxReconnectAttempts: -1,
        // nats.js otherwise builds two Error objects (stack traces) per request, every JetStream publish
        // included, to give a timeout its caller's stack; Herald's errors name the operation themselves.
        noAsyncTraces: true,
        ...options.connectionOptions,
        servers: options.servers,
      }),
    ));
  try {
    const jsm = await mapErrors('opening JetStream (is the server started with -js?)', () =>
      jetstreamManager(nc),
    );
    const js = jsm.jetstream();
    const names = new Names(options.prefix);
    const topology = new Topology(jsm, names, options);
    return {
      nc,
      js,
      jsm,
      names,
      options,
      topology,
      state: new GroupState(js, jsm, names),
      deadLetters: new NatsDeadLetters(js, jsm, names, topology),
    };
  } catch (error) {
    if (options.connection === undefined) await nc.close().catch(() => undefined);
    throw error;
  }
}

/**
 * A transport on NATS JetStream. Each topic is a stream (file storage) with one subject per partition,
 * `<topic>.<partition>`; a record goes to `partitionFor(key, partitions)`. Each consumer group has a durable
 * pull consumer per partition, with explicit acks, and its members share the partitions: a member pulls only
 * the partitions it has claimed (claims are compare-and-set in a group-state stream), so records of one key are
 * never handled by two members at once, and each member runs keys in order and different keys in parallel.
 * `retryLater` is a `nak` with the delay; later records of the key wait behind it while other keys flow.
 * Dead letters go to a per-group subject of a dead-letter stream, and a replay reaches only the group that
 * failed. Events travel in the CloudEvents NATS binding's binary mode (`ce-*` headers).
 *
 * Options are checked at once (`HERALD_CONFIG`); the connection opens in the background, and a failure to
 * connect rejects the first `publish` or `subscribe(...).ready` with `HERALD_TRANSPORT`.
 */
export function nats(options: NatsTransportOptions): Transport {
  const resolved = resolveNatsOptions(options);
  const context = open(resolved);
  context.catch(() => undefined);
  const subscriptions = new Set<NatsSubscription>();
  const roundRobin = new Map<string, number>();
  let closing: Promise<void> | undefined;

  const capabilities: TransportCapabilities = {
    persistent: true,
    crossProcess: true,
    orderedPerKey: true,
    delayedDelivery: true,
    orderedRedelivery: true,
    deadLetterQueue: true,
    replay: true,
    // Every held delivery's ack wait is extended (`working()`) every third of it, and group membership is
    // renewed by a timer, so a handler may outlive both.
    longHandlers: true,
    // JetStream schedules messages (`Nats-Schedule-*` headers) only from nats-server 2.12; the tested server is
    // 2.9.10, and a consumer-side "not before" would stop the record's partition subject. Scheduled events go
    // through an outbox, whose relay holds the row until it is due.
    scheduledDelivery: false,
  };

  const assertOpen = (): void => {
    if (closing !== undefined) throw new HeraldError(ErrorCodes.CLOSED, 'Transport "nats" is closed');
  };

  const partitionOf = (record: TransportRecord, partitions: number): number => {
    if (record.key !== undefined) return partitionFor(record.key, partitions);
    const next = roundRobin.get(record.topic) ?? 0;
    roundRobin.set(record.topic, next + 1);
    return next % partitions;
  };

  async function publish(records: readonly TransportRecord[]): Promise<PublishReceipt[]> {
    assertOpen();
    for (const record of records) checkTopic(record.topic);
    const ctx = await context;
    const topics = [...new Set(records.map((r) => r.topic))];
    const counts = new Map(
      await Promise.all(topics.map(async (topic) => [topic, await ctx.topology.partitions(topic)] as const)),
    );
    assertOpen();
    // Every publish is issued before any is awaited: one connection keeps them in order on the wire, so the
    // stream stores same-key records of this call in the order given.
    const pending = records.map(async (record): Promise<PublishReceipt> => {
      const partition = partitionOf(record, counts.get(record.topic)!);
      const h = natsHeaders();
      for (const [name, value] of encodeHeaders(record.attributes, record.key)) h.append(name, value);
      const { id, source } = record.attributes;
      const msgID =
        resolved.deduplicate && id !== undefined ? percentEncode(`${source ?? ''} ${id}`) : undefined;
      try {
        const ack = await ctx.js.publish(ctx.names.partitionSubject(record.topic, partition), record.data, {
          headers: h,
          ...(msgID === undefined ? {} : { msgID }),
        });
        return { topic: record.topic, partition, offset: String(ack.seq) };
      } catch (error) {
        // The stream may have been deleted under us: look it up again on the next publish.
        ctx.topology.forgetTopic(record.topic);
        throw transportError(error, `publishing to ${record.topic}/${partition}`);
      }
    });
    const settled = await Promise.allSettled(pending);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<PublishReceipt>).value);
  }

  function subscribe(
    subscribeOptions: SubscribeOptions,
    onDelivery: (delivery: Delivery) => Promise<void>,
  ): Subscription {
    assertOpen();
    const { group, topics } = subscribeOptions;
    checkName('group', group);
    if (!Array.isArray(topics) || topics.length === 0)
      throw configError('topics', 'at least one topic', topics);
    for (const topic of topics as readonly string[]) checkTopic(topic);
    const subscription = new NatsSubscription(context, subscribeOptions, onDelivery, () =>
      subscriptions.delete(subscription),
    );
    subscriptions.add(subscription);
    return subscription;
  }

  const deadLetters: DeadLetterQueue = {
    list: async (query) => (await context).deadLetters.list(query),
    get: async (id) => (await context).deadLetters.get(id),
    replay: async (id, replayOptions) => (await context).deadLetters.replay(id, replayOptions),
    discard: async (id) => (await context).deadLetters.discard(id),
  };

  async function close(closeOptions: CloseOptions = {}): Promise<void> {
    await Promise.allSettled([...subscriptions].map((s) => s.close(closeOptions)));
    const ctx = await context.catch(() => undefined);
    if (ctx === undefined || resolved.connection !== undefined || ctx.nc.isClosed()) return;
    await ctx.nc.drain().catch((error: unknown) => {
      throw transportError(error, 'closing the connection');
    });
  }

  return {
    name: 'nats',
    capabilities,
    deadLetters,
    publish,
    subscribe,
    async seek(group: string, topic: string, target: SeekTarget): Promise<void> {
      assertOpen();
      checkTopic(topic);
      await (await context).topology.seek(group, topic, target);
    },
    close(closeOptions?: CloseOptions): Promise<void> {
      closing ??= close(closeOptions);
      return closing;
    },
  };
}
