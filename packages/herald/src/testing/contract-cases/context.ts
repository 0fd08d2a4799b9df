import { decodeRecord } from '../../codec.ts';
import { defineEvent } from '../../event-definition.ts';
import type { CloudEvent } from '../../message.ts';
import { createPublisher } from '../../publisher.ts';
import type { TestContext } from 'node:test';
import type { Delivery, Subscription, Transport, TransportCapabilities } from '../../transport.ts';
import { testSchema } from '../test-schema.ts';
import type { LeaseFault } from './long-handlers.ts';
import type { ConnectionFault } from './reconnect.ts';

/** A transport under test. */
export interface ContractTarget {
  readonly name: string;
  /**
   * A new transport on the same broker (file, server) as every other `create()` of this target: a second call
   * plays a second process. Use short session timeouts so lost members are noticed quickly.
   */
  create(): Transport | Promise<Transport>;
  /**
   * For cross-process transports: a module exporting `createTransport()`, run in a child process that is killed
   * with SIGKILL before it acks, to test redelivery after a consumer process dies.
   */
  readonly childModule?: string;
  /** How long until a join or a lost member is reflected in every member's assignment. Default 1500 ms. */
  readonly rebalanceMs?: number;
  /** Bound of each wait for an asynchronous outcome. Default 15000 ms. */
  readonly timeoutMs?: number;
  /** How the reconnect case cuts the transport off its broker, or why it cannot here; absent: skipped. */
  readonly connectionFault?: ConnectionFault;
  /**
   * Required when the transport declares `longHandlers`: the longest lease timeout of the transports `create()`
   * makes (session timeout, ack wait, visibility timeout), ms. The long-handler case runs a handler
   * three times as long.
   */
  readonly leaseTimeoutMs?: number;
  /** How the lease-loss case makes a member lose its lease, or why it cannot here; absent: skipped. */
  readonly leaseFault?: LeaseFault;
}

/** The contract's test event: `{ key, seq, text? }`, keyed by `key`, on the given topic. */
export const Ping = (topic: string) =>
  defineEvent({ type: 'ContractPinged', topic, schema: testSchema, key: (data) => data.key });

/** One delivery a case's handler saw: the decoded event and the delivery it came in. */
export interface Received {
  readonly event: CloudEvent;
  readonly delivery: Delivery;
}

/**
 * What every contract case works with: the target, its bounds, and helpers that open transports and
 * subscriptions the suite closes after the last case.
 */
export interface ContractContext {
  readonly target: ContractTarget;
  /** Bound of each wait for an asynchronous outcome. */
  readonly timeoutMs: number;
  /** How long until a join or a lost member is reflected in every member's assignment. */
  readonly rebalanceMs: number;
  /** A new transport of the target (a second call plays a second process), closed after the suite. */
  readonly transport: () => Promise<Transport>;
  /**
   * A new transport, as `transport()`, if it declares `capability`; otherwise the test is skipped (saying which
   * capability) and this resolves `undefined`.
   */
  readonly transportWith: (
    test: TestContext,
    capability: keyof TransportCapabilities,
  ) => Promise<Transport | undefined>;
  /** Subscribes `group` to `topic`, decoding each record; the subscription is closed after the suite. */
  readonly subscribe: (
    t: Transport,
    group: string,
    topic: string,
    onDelivery: (received: Received) => Promise<void> | void,
    concurrency?: number,
  ) => Subscription;
  /** A handler that records each delivery into `into` and acks it. */
  readonly acking: (into: Received[]) => (received: Received) => Promise<void>;
  /** Publishes `perKey` pings for each key, `seq` 0 up, every key's n-th ping before any (n+1)-th. */
  readonly publishPings: (
    t: Transport,
    topic: string,
    keys: readonly string[],
    perKey: number,
  ) => Promise<void>;
  /** Closes what the cases opened (subscriptions first, then transports). */
  readonly closeAll: () => Promise<void>;
}

/** The context the suite hands to every case of one target. */
export function createContractContext(target: ContractTarget): ContractContext {
  const open: Transport[] = [];
  const subscriptions: Subscription[] = [];
  const transport = async (): Promise<Transport> => {
    const t = await target.create();
    open.push(t);
    return t;
  };
  return {
    target,
    timeoutMs: target.timeoutMs ?? 15_000,
    rebalanceMs: target.rebalanceMs ?? 1500,
    transport,
    transportWith: async (test, capability) => {
      const t = await transport();
      if (t.capabilities[capability]) return t;
      test.skip(`${capability} not declared`);
      return undefined;
    },
    subscribe: (t, group, topic, onDelivery, concurrency = 4) => {
      const subscription = t.subscribe({ group, topics: [topic], concurrency }, async (delivery) => {
        await onDelivery({ event: decodeRecord(delivery.record), delivery });
      });
      subscriptions.push(subscription);
      return subscription;
    },
    acking: (into) => async (received) => {
      into.push(received);
      await received.delivery.ack();
    },
    publishPings: async (t, topic, keys, perKey) => {
      const publisher = createPublisher({ transport: t, source: '/herald/contract' });
      for (let seq = 0; seq < perKey; seq++) {
        await Promise.all(keys.map((key) => publisher.publish(Ping(topic), { key, seq })));
      }
    },
    closeAll: async () => {
      await Promise.allSettled(subscriptions.map((s) => s.close({ timeoutMs: 100 })));
      await Promise.allSettled(open.map((t) => t.close({ timeoutMs: 100 })));
    },
  };
}
