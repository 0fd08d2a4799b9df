import type { ErrorInfo } from './errors.ts';

/**
 * What a transport carries: a CloudEvent in binary mode. `attributes` holds every context attribute except `data`
 * (extensions included), as strings; `data` holds the encoded payload described by `attributes.datacontenttype`.
 * Each transport maps `attributes` onto its protocol binding (Kafka `ce_*` headers, AMQP application properties,
 * NATS headers, SQLite columns).
 */
export interface TransportRecord {
  readonly topic: string;
  /** The partition key; records with the same key keep their publish order where the transport is ordered. */
  readonly key: string | undefined;
  readonly attributes: Readonly<Record<string, string>>;
  readonly data: Uint8Array;
}

/**
 * Where a published record landed. `offset` is a decimal string so 64-bit offsets survive. A record held for
 * later (`scheduledDelivery`) has no offset yet: its receipt carries `deliverAt` and `offset` is `-1` (the
 * partition is the one it will enter, or -1 where the transport cannot tell yet).
 */
export interface PublishReceipt {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** Set when the record is held until this time (RFC 3339), not yet in its topic. */
  readonly deliverAt?: string;
}

/** Why an event was dead-lettered, stored with it. */
export interface DeadLetterFailure {
  readonly error: ErrorInfo;
  /** How many times the event was handled in all (immediate retries and redeliveries). */
  readonly attempts: number;
  /** A short reason for operators (`validation`, `max-attempts`, `permanent-error`, `decode`). */
  readonly reason: string;
}

/**
 * One record delivered to one consumer group, read-only: what handlers and middleware see. Settling it is the
 * router's (see {@link Delivery}).
 */
export interface DeliveryView {
  readonly record: TransportRecord;
  readonly group: string;
  readonly partition: number;
  readonly offset: string;
  /**
   * 1 on the first delivery to this group, +1 on each redelivery after `retryLater`. A record re-read after its
   * consumer was lost before settling it starts again at 1 (as on Kafka).
   */
  readonly attempt: number;
  /**
   * Present where the transport can tell: aborted (reason: a `HERALD_LEASE_LOST` error) when this consumer lost
   * the delivery's lease (its partition went to another member, its channel or visibility is gone, it was
   * abandoned at shutdown). The record is then redelivered to the group, so this handling's outcome no longer
   * counts: the router does not settle it, and a transport may ignore or reject a settle. Never aborted merely
   * because a handler runs long where `capabilities.longHandlers` holds.
   */
  readonly signal?: AbortSignal;
}

/**
 * One record delivered to one consumer group, with the means to settle it. The router settles it exactly once:
 * `ack`, `retryLater` or `deadLetter`. A delivery left unsettled (process killed, subscription abandoned) is
 * redelivered to the group.
 */
export interface Delivery extends DeliveryView {
  /** Done: the group will not see this record again (short of a replay). */
  ack(): Promise<void>;
  /**
   * Redeliver this record to this group only, no sooner than `delayMs` from now, with `attempt + 1`. Where the
   * transport is ordered per key, later records with the same key wait behind it; other keys keep flowing.
   */
  retryLater(delayMs: number, error: ErrorInfo): Promise<void>;
  /** Move the record to this group's dead-letter queue; the group moves on. */
  deadLetter(failure: DeadLetterFailure): Promise<void>;
}

/** Options of {@link Transport.subscribe}. */
export interface SubscribeOptions {
  /** The consumer group: every group gets every record; members of one group share them. */
  readonly group: string;
  readonly topics: readonly string[];
  /** Deliveries in flight at once in this subscription, across keys. Same-key records are never concurrent. */
  readonly concurrency: number;
  /** Where a group that has no committed position starts. Default `earliest`. */
  readonly startFrom?: 'earliest' | 'latest';
}

/** Options of {@link Subscription.close}. */
export interface CloseOptions {
  /** How long to wait for in-flight deliveries to settle before abandoning them (they are redelivered). */
  readonly timeoutMs?: number;
}

/** A running subscription. */
export interface Subscription {
  /** Resolves once the subscription is assigned its share of partitions and receiving. */
  readonly ready: Promise<void>;
  /**
   * Stops fetching, waits up to `timeoutMs` for in-flight deliveries to settle, commits what settled and leaves
   * the group. Unsettled deliveries are redelivered to the group's other members (or the next one to join).
   */
  close(options?: CloseOptions): Promise<void>;
}

/** A dead-lettered record as an operator sees it. */
export interface DeadLetter {
  readonly id: string;
  readonly group: string;
  readonly record: TransportRecord;
  readonly partition: number;
  readonly offset: string;
  readonly failure: DeadLetterFailure;
  /** ISO time it was dead-lettered. */
  readonly deadLetteredAt: string;
}

/** A filter for {@link DeadLetterQueue.list}. */
export interface DeadLetterQuery {
  readonly group?: string;
  readonly topic?: string;
  readonly limit?: number;
}

/** Options of {@link DeadLetterQueue.replay}. */
export interface ReplayOptions {
  /** Replaces the record's payload (same `datacontenttype`). */
  readonly data?: Uint8Array;
  /**
   * CloudEvents attributes set on the replayed record, over its own (extension attributes such as an operator
   * tool's replay count). The replayed delivery, and a dead letter it may become again, carry them.
   */
  readonly attributes?: Readonly<Record<string, string>>;
}

/**
 * A dead-letter queue you can operate: list, inspect, replay, discard. A replay reaches only the group that
 * failed, never the other subscribers of the topic.
 */
export interface DeadLetterQueue {
  list(query?: DeadLetterQuery): Promise<DeadLetter[]>;
  get(id: string): Promise<DeadLetter | undefined>;
  /** Redeliver the record to its group (optionally edited), and remove it from the queue. */
  replay(id: string, options?: ReplayOptions): Promise<void>;
  discard(id: string): Promise<void>;
}

/** Where to move a consumer group's position on {@link Transport.seek}. */
export type SeekTarget = { readonly offset: string } | { readonly time: Date } | 'earliest' | 'latest';

/** How far a consumer group is behind in one partition. */
export interface ConsumerLag {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** Records in the partition the group has not committed yet (in flight or not yet read). */
  readonly lag: number;
}

/**
 * What a transport guarantees. The contract suite tests exactly what is declared; what is not declared is not
 * promised to users either.
 */
export interface TransportCapabilities {
  /** Records survive the process (and broker restarts where the broker is durable). */
  readonly persistent: boolean;
  /** Several processes can publish and consume through it. */
  readonly crossProcess: boolean;
  /** Same-key records are delivered in publish order to each group. */
  readonly orderedPerKey: boolean;
  /** `retryLater` honours its delay (otherwise it redelivers at once). */
  readonly delayedDelivery: boolean;
  /**
   * A record waiting for redelivery stays ahead of later records with the same key: they wait behind it while
   * other keys flow. Without it, same-key records may overtake a record that is being retried.
   */
  readonly orderedRedelivery: boolean;
  /** The transport keeps a per-group dead-letter queue (`deadLetters`). */
  readonly deadLetterQueue: boolean;
  /** Groups can be moved to an offset or time (`seek`). */
  readonly replay: boolean;
  /**
   * A handler may run longer than the transport's lease timeout (session timeout, ack wait, visibility timeout)
   * and its delivery is not redelivered meanwhile: the consumer extends the lease while the delivery is in flight
   * and stops when it settles. The lease can still be lost for other reasons (a rebalance, a lost connection);
   * `Delivery.signal` then aborts. Without it, a handler that outlives the broker's timeout is redelivered.
   */
  readonly longHandlers: boolean;
  /**
   * A record whose `deliverat` attribute (see `scheduled-delivery.ts`) lies in the future is held by the
   * transport and enters its topic at that time: no group receives it before, every group receives it after (at
   * least once, as any record), and it never holds back records published after it (its key's order counts from
   * when it is due). Held records survive restarts where the transport is persistent. Without it, the publisher
   * refuses such a record (`HERALD_UNSUPPORTED`) and an outbox relay holds it instead.
   */
  readonly scheduledDelivery: boolean;
}

/**
 * The only broker-facing interface: a transport publishes records and delivers them to consumer groups,
 * at least once. Transports are thin: routing, middleware and typing live in the core.
 */
export interface Transport {
  /** The transport's kind (`memory`, `sqlite`, `kafka`...). */
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  /**
   * Publishes records. Resolves when every record is acknowledged at the transport's durability; rejects if any
   * is not (records before it may have been stored). Same-key records of one call keep their order.
   */
  publish(records: readonly TransportRecord[]): Promise<PublishReceipt[]>;
  /** Joins a consumer group and delivers records to `onDelivery`, which settles each one. */
  subscribe(options: SubscribeOptions, onDelivery: (delivery: Delivery) => Promise<void>): Subscription;
  /** Present when `capabilities.deadLetterQueue`. */
  readonly deadLetters?: DeadLetterQueue;
  /** Present when `capabilities.replay`: moves a group's position on a topic (all partitions). */
  seek?(group: string, topic: string, target: SeekTarget): Promise<void>;
  /**
   * Present where the transport can tell: the lag of this transport's running subscriptions, per group and per
   * partition they are assigned (so each process reports the partitions it consumes). For metrics.
   */
  consumerLag?(): Promise<ConsumerLag[]>;
  /** Closes subscriptions (as {@link Subscription.close}) and connections. Idempotent. */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * The record a dead-letter replay sends: the dead letter's own, with `options.data` and `options.attributes`
 * applied. Shared by the transports so every one edits a replay the same way.
 */
export function replayedRecord<R extends TransportRecord>(record: R, options: ReplayOptions = {}): R {
  if (options.data === undefined && options.attributes === undefined) return record;
  return {
    ...record,
    data: options.data ?? record.data,
    attributes: { ...record.attributes, ...options.attributes },
  };
}
