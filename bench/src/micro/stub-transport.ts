import type {
  Delivery,
  PublishReceipt,
  Subscription,
  Transport,
  TransportCapabilities,
  TransportRecord,
} from '@herald/core';

/** What the stub counted: every record published, every settlement of a delivery. */
export interface StubCounters {
  published: number;
  acked: number;
  retried: number;
  deadLettered: number;
}

/**
 * An in-process transport that does no I/O, for the micro-benchmark: `publish` keeps the last record it was
 * given (so the publish path's encoding is really consumed) and resolves at once; `subscribe` hands its
 * `onDelivery` to {@link StubTransport.deliver}, which the benchmark calls for each record. What is measured is
 * therefore only the core's own work on each side.
 */
export interface StubTransport extends Transport {
  readonly counters: StubCounters;
  /** The records `publish` received, when created with `keep: true` (to build the dispatch path's input). */
  readonly kept: TransportRecord[];
  /** Hands one delivery of `record` to the subscription (which must exist) and resolves once it is settled. */
  deliver(record: TransportRecord, offset: number): Promise<void>;
}

// The capabilities `createRouter`'s default pipeline needs (a dead-letter queue), none of which is exercised.
const CAPABILITIES: TransportCapabilities = {
  persistent: false,
  crossProcess: false,
  orderedPerKey: true,
  delayedDelivery: false,
  orderedRedelivery: false,
  deadLetterQueue: true,
  replay: false,
  longHandlers: false,
  scheduledDelivery: false,
};

/** Creates a {@link StubTransport}; `keep` stores every published record instead of only counting them. */
export function stubTransport(options: { keep?: boolean } = {}): StubTransport {
  const counters: StubCounters = { published: 0, acked: 0, retried: 0, deadLettered: 0 };
  const kept: TransportRecord[] = [];
  let onDelivery: ((delivery: Delivery) => Promise<void>) | undefined;
  let group = '';
  const receipt: PublishReceipt = { topic: '', partition: 0, offset: '0' };
  const ack = (): Promise<void> => {
    counters.acked++;
    return Promise.resolve();
  };
  const retryLater = (): Promise<void> => {
    counters.retried++;
    return Promise.resolve();
  };
  const deadLetter = (): Promise<void> => {
    counters.deadLettered++;
    return Promise.resolve();
  };
  const subscription: Subscription = { ready: Promise.resolve(), close: () => Promise.resolve() };
  return {
    name: 'stub',
    capabilities: CAPABILITIES,
    counters,
    kept,
    publish(records) {
      counters.published += records.length;
      if (options.keep === true) kept.push(...records);
      return Promise.resolve(records.map(() => receipt));
    },
    subscribe(subscribeOptions, handler) {
      onDelivery = handler;
      group = subscribeOptions.group;
      return subscription;
    },
    deliver(record, offset) {
      if (onDelivery === undefined) throw new Error('stub transport: deliver() before subscribe()');
      return onDelivery({
        record,
        group,
        partition: 0,
        offset: String(offset),
        attempt: 1,
        ack,
        retryLater,
        deadLetter,
      });
    },
    close: () => Promise.resolve(),
  };
}
