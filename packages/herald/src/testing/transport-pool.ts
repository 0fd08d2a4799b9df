import type { Delivery, Subscription, Transport } from '../transport.ts';

/** The transports and subscriptions a test file opens, to close them all in one `after`. */
export interface TransportPool<T extends Transport, Args extends unknown[]> {
  /** Every transport `transport()` created, in order. */
  readonly transports: readonly T[];
  /** Creates a transport with the pool's factory and keeps it to close. */
  readonly transport: (...args: Args) => T;
  /** Subscribes `group` to the one `topic` on `t` and keeps the subscription to close. */
  readonly subscribe: (
    t: T,
    group: string,
    topic: string,
    onDelivery: (delivery: Delivery) => Promise<void>,
    concurrency?: number,
  ) => Subscription;
  /**
   * Closes every subscription, then every transport (100 ms each), settling all: one that fails to close does
   * not keep the others open.
   */
  readonly close: () => Promise<void>;
}

/**
 * A {@link TransportPool} over `create`: subscriptions default to `concurrency` handlers at once. For the
 * transport-specific integration tests, which open many transports and must close them whatever a test did.
 */
export function transportPool<T extends Transport, Args extends unknown[]>(
  create: (...args: Args) => T,
  concurrency: number,
): TransportPool<T, Args> {
  const transports: T[] = [];
  const subscriptions: Subscription[] = [];
  return {
    transports,
    transport: (...args) => {
      const t = create(...args);
      transports.push(t);
      return t;
    },
    subscribe: (t, group, topic, onDelivery, perSubscription = concurrency) => {
      const s = t.subscribe({ group, topics: [topic], concurrency: perSubscription }, onDelivery);
      subscriptions.push(s);
      return s;
    },
    close: async () => {
      await Promise.allSettled(subscriptions.map((s) => s.close({ timeoutMs: 100 })));
      await Promise.allSettled(transports.map((t) => t.close({ timeoutMs: 100 })));
    },
  };
}

/** A handler that pushes each delivery onto `got`, then acks it. */
export function ackInto(got: Delivery[]): (delivery: Delivery) => Promise<void> {
  return async (delivery) => {
    got.push(delivery);
    await delivery.ack();
  };
}
