import type {
  DeadLetter,
  DeadLetterQueue,
  Delivery,
  PublishReceipt,
  TransportRecord,
  Transport,
} from './transport.ts';
import { configError } from './errors.ts';

const PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `transport` with every topic and consumer group name prefixed by `prefix` on the broker (`orders` →
 * `run42-orders`, `payment-service` → `run42-payment-service`), and unprefixed again in what it hands back. The
 * services keep their contracts' topic names; several shops (or test runs) share one broker without seeing each
 * other's events. Works on every engine, which matters because not every transport can prefix its topics itself
 * (Kafka's `topicPrefix` covers only retry and dead-letter topics; NATS subjects are named after the topic).
 * Without a prefix it returns `transport` itself. Throws `HERALD_CONFIG` at start-up for a prefix that is not
 * letters, digits, `.`, `_` or `-`.
 */
export function withTopicPrefix(transport: Transport, prefix: string): Transport {
  if (prefix === '') return transport;
  if (!PREFIX_PATTERN.test(prefix)) {
    throw configError(
      'topic prefix (HERALD_TOPIC_PREFIX)',
      'letters, digits, ".", "_" or "-", not starting with a sign',
      prefix,
    );
  }
  const add = (name: string): string => `${prefix}${name}`;
  const strip = (name: string): string => (name.startsWith(prefix) ? name.slice(prefix.length) : name);
  const record = (r: TransportRecord, rename: (name: string) => string): TransportRecord => ({
    ...r,
    topic: rename(r.topic),
  });
  const receipt = (r: PublishReceipt): PublishReceipt => ({ ...r, topic: strip(r.topic) });
  const deadLetter = (d: DeadLetter): DeadLetter => ({
    ...d,
    group: strip(d.group),
    record: record(d.record, strip),
  });
  const delivery = (d: Delivery): Delivery => ({
    record: record(d.record, strip),
    group: strip(d.group),
    partition: d.partition,
    offset: d.offset,
    attempt: d.attempt,
    // The lease signal too, so a handler still learns that its delivery was lost.
    ...(d.signal === undefined ? {} : { signal: d.signal }),
    ack: () => d.ack(),
    retryLater: (delayMs, error) => d.retryLater(delayMs, error),
    deadLetter: (failure) => d.deadLetter(failure),
  });
  const inner = transport.deadLetters;
  const deadLetters: DeadLetterQueue | undefined =
    inner === undefined
      ? undefined
      : {
          list: async (query = {}) =>
            (
              await inner.list({
                ...query,
                ...(query.group === undefined ? {} : { group: add(query.group) }),
                ...(query.topic === undefined ? {} : { topic: add(query.topic) }),
              })
            )
              // Only this prefix's groups: the broker's queue may hold other systems' dead letters too.
              .filter((d) => d.group.startsWith(prefix))
              .map(deadLetter),
          get: async (id) => {
            const found = await inner.get(id);
            return found === undefined ? undefined : deadLetter(found);
          },
          replay: (id, options) => inner.replay(id, options),
          discard: (id) => inner.discard(id),
        };
  return {
    name: transport.name,
    capabilities: transport.capabilities,
    publish: async (records) => (await transport.publish(records.map((r) => record(r, add)))).map(receipt),
    subscribe: (options, onDelivery) =>
      transport.subscribe({ ...options, group: add(options.group), topics: options.topics.map(add) }, (d) =>
        onDelivery(delivery(d)),
      ),
    ...(deadLetters === undefined ? {} : { deadLetters }),
    ...(transport.seek === undefined
      ? {}
      : { seek: (group, topic, target) => transport.seek!(add(group), add(topic), target) }),
    ...(transport.consumerLag === undefined
      ? {}
      : {
          consumerLag: async () =>
            (await transport.consumerLag!())
              .filter((lag) => lag.group.startsWith(prefix))
              .map((lag) => ({ ...lag, group: strip(lag.group), topic: strip(lag.topic) })),
        }),
    close: (options) => transport.close(options),
  };
}
