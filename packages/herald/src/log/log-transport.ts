import { configError, ErrorCodes, HeraldError } from '../errors.ts';
import type {
  CloseOptions,
  DeadLetterQueue,
  Delivery,
  SubscribeOptions,
  Subscription,
  Transport,
  TransportCapabilities,
} from '../transport.ts';
import { LogConsumer } from './log-consumer.ts';
import { ScheduledReleaser } from './log-releaser.ts';
import type { LogStore } from './log-store.ts';

/** Options of {@link logTransport}. */
export interface LogTransportOptions {
  /** Fallback poll when no wake-up arrives, ms. Default 500. */
  readonly pollIntervalMs?: number;
  /** Records read per partition per fetch. Default 256. */
  readonly fetchBatch?: number;
  /** How long settled offsets may wait before being committed, ms. Default 20. */
  readonly commitIntervalMs?: number;
}

/**
 * Turns a {@link LogStore} into a {@link Transport}: at-least-once delivery to every group, competing consumers
 * sharing partitions, order per key with parallelism across keys up to the subscription's concurrency, commits
 * only below the oldest unfinished record, delayed redelivery that parks only the failing key, dead letters per
 * group, seek, and scheduled delivery: a record due later is held by the store (durably, for a persistent one)
 * and appended at its due time by whichever process sharing the store gets to it first, once.
 */
export function logTransport(store: LogStore, options: LogTransportOptions = {}): Transport {
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const fetchBatch = options.fetchBatch ?? 256;
  const commitIntervalMs = options.commitIntervalMs ?? 20;
  if (!(pollIntervalMs >= 1)) throw configError('pollIntervalMs', 'a number >= 1', pollIntervalMs);
  if (!Number.isInteger(fetchBatch) || fetchBatch < 1)
    throw configError('fetchBatch', 'an integer >= 1', fetchBatch);
  if (!(commitIntervalMs >= 0)) throw configError('commitIntervalMs', 'a number >= 0', commitIntervalMs);

  const consumers = new Set<LogConsumer>();
  const releaser = new ScheduledReleaser(store, pollIntervalMs, (error) => {
    console.error(`[herald] ${store.name} scheduled delivery:`, error);
  });
  let closed = false;
  const capabilities: TransportCapabilities = {
    persistent: store.persistent,
    crossProcess: store.crossProcess,
    orderedPerKey: true,
    delayedDelivery: true,
    orderedRedelivery: true,
    deadLetterQueue: true,
    replay: true,
    // The member's lease is renewed by a timer of its own, whatever its handlers do (see LogConsumer).
    longHandlers: true,
    // Held in the store until due (see LogStore.append), then appended, so order per key holds from the release.
    scheduledDelivery: true,
  };
  const assertOpen = (): void => {
    if (closed) throw new HeraldError(ErrorCodes.CLOSED, `Transport "${store.name}" is closed`);
  };
  const deadLetters: DeadLetterQueue = {
    list: (query = {}) => store.listDeadLetters(query),
    get: (id) => store.getDeadLetter(id),
    async replay(id, replayOptions) {
      if ((await store.getDeadLetter(id)) === undefined) {
        throw new HeraldError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${id}`);
      }
      await store.replayDeadLetter(id, replayOptions);
    },
    discard: (id) => store.discardDeadLetter(id),
  };

  return {
    name: store.name,
    capabilities,
    deadLetters,
    async publish(records) {
      assertOpen();
      const receipts = await store.append(records);
      for (const receipt of receipts) {
        if (receipt.deliverAt !== undefined) releaser.expect(Date.parse(receipt.deliverAt));
      }
      return receipts;
    },
    subscribe(
      subscribeOptions: SubscribeOptions,
      onDelivery: (delivery: Delivery) => Promise<void>,
    ): Subscription {
      assertOpen();
      if (subscribeOptions.topics.length === 0) throw configError('topics', 'at least one topic', []);
      const consumer = new LogConsumer(store, subscribeOptions, onDelivery, {
        pollIntervalMs,
        fetchBatch,
        commitIntervalMs,
      });
      consumers.add(consumer);
      consumer.start();
      releaser.start();
      return {
        ready: consumer.ready,
        close: async (closeOptions?: CloseOptions) => {
          await consumer.close(closeOptions);
          consumers.delete(consumer);
        },
      };
    },
    seek: (group, topic, target) => store.seek(group, topic, target),
    async consumerLag() {
      return (await Promise.all([...consumers].map((c) => c.lag()))).flat();
    },
    async close(closeOptions) {
      if (closed) return;
      closed = true;
      await releaser.close();
      await Promise.all([...consumers].map((c) => c.close(closeOptions)));
      consumers.clear();
      await store.close();
    },
  };
}
