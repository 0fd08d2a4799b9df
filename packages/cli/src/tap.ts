import { randomBytes } from 'node:crypto';
import {
  checkName,
  configError,
  decodeRecord,
  describeError,
  ErrorCodes,
  HeraldError,
  type CloudEvent,
  type Delivery,
  type ErrorInfo,
  type Subscription,
  type Transport,
} from '@herald/core';

/** The prefix of the consumer groups {@link tapStream} creates: `herald-tail-<random>`. */
export const TAP_GROUP_PREFIX = 'herald-tail-';

/** A new ephemeral group name, unique per call: `herald-tail-` and 12 random hex digits. */
export function tapGroupName(): string {
  return `${TAP_GROUP_PREFIX}${randomBytes(6).toString('hex')}`;
}

/** Transports on which a new group can start at the beginning of a topic (the others only see what comes next). */
const CAN_START_EARLIEST = new Set(['memory', 'sqlite', 'kafka', 'nats']);

/** Whether a new group on `transport` can read a topic from its beginning (`fromBeginning`). */
export function canTapFromBeginning(transport: Transport): boolean {
  return CAN_START_EARLIEST.has(transport.name);
}

/** Which events a tap passes on: every filter given must match (several values of one filter: any of them). */
export interface TapFilter {
  /** CloudEvents `type`s to keep. Empty or absent: every type. */
  readonly types?: readonly string[];
  /** Partition keys to keep. Empty or absent: every key. */
  readonly keys?: readonly string[];
}

/** One record a tap saw, decoded where it decodes. */
export interface TapEvent {
  readonly topic: string;
  readonly partition: number;
  /** The transport's offset of the record in its partition, a decimal string (as the transport reports it). */
  readonly offset: string;
  readonly key: string | undefined;
  /** The record's CloudEvents attributes as carried (strings). */
  readonly attributes: Readonly<Record<string, string>>;
  /** The decoded event; absent when the record is not a valid CloudEvent (then `decodeError` says why). */
  readonly event?: CloudEvent;
  readonly decodeError?: ErrorInfo;
  /** When the tap received it, ISO time. */
  readonly receivedAt: string;
}

/** Options of {@link tapStream}. */
export interface TapOptions extends TapFilter {
  readonly topics: readonly string[];
  /**
   * Start at the beginning of the topics instead of at their end. Only where {@link canTapFromBeginning}: throws
   * `HERALD_UNSUPPORTED` otherwise (RabbitMQ and SQS queues only hold what was published after they exist).
   */
  readonly fromBeginning?: boolean;
  /** The consumer group to read with. Default: a new {@link tapGroupName}. Never a service's group. */
  readonly group?: string;
  /** Told when `onEvent` throws (the tap goes on). */
  readonly onError?: (error: unknown) => void;
}

/** A running tap. */
export interface Tap {
  /** The ephemeral consumer group it reads with. */
  readonly group: string;
  /** Resolves once the tap receives: events published after it are seen. */
  readonly ready: Promise<void>;
  /** Stops receiving and leaves the group (idempotent). Removing the group from the broker is the caller's. */
  close(): Promise<void>;
}

/** Whether `event` passes `filter`. */
export function matchesFilter(event: Pick<TapEvent, 'attributes' | 'key'>, filter: TapFilter): boolean {
  const { types = [], keys = [] } = filter;
  if (types.length > 0 && !types.includes(event.attributes.type ?? '')) return false;
  if (keys.length > 0 && (event.key === undefined || !keys.includes(event.key))) return false;
  return true;
}

/** A delivery as a {@link TapEvent}: decoded, or with the reason it does not decode. */
export function toTapEvent(delivery: Delivery, receivedAt = new Date()): TapEvent {
  const { record } = delivery;
  const base = {
    topic: record.topic,
    partition: delivery.partition,
    offset: delivery.offset,
    key: record.key,
    attributes: record.attributes,
    receivedAt: receivedAt.toISOString(),
  };
  try {
    return { ...base, event: decodeRecord(record) };
  } catch (error) {
    return { ...base, decodeError: describeError(error) };
  }
}

/**
 * Taps the live stream of `options.topics` without disturbing the services: reads with its own consumer group
 * (by default a new `herald-tail-<random>`, so it takes no partition from any service's group and every group
 * still gets every event), acknowledges everything it receives, and hands `onEvent` the records that pass the
 * filters, in the order each partition delivers them. Starts at the topics' end unless `fromBeginning`. An
 * `onEvent` that throws does not stop the tap (`onError` is told; the record is acknowledged anyway: a tap never
 * redelivers).
 *
 * What the group leaves on the broker after `close` depends on the transport: see `ephemeralGroupCleanup`.
 * Throws `HERALD_CONFIG` for no topics or a bad group name, `HERALD_UNSUPPORTED` for `fromBeginning` where the
 * transport cannot.
 */
export function tapStream(
  transport: Transport,
  options: TapOptions,
  onEvent: (event: TapEvent) => void | Promise<void>,
): Tap {
  if (options.topics.length === 0) throw configError('topics', 'at least one topic', []);
  for (const topic of options.topics) checkName('topic', topic);
  const group = options.group ?? tapGroupName();
  checkName('group', group);
  if (options.fromBeginning === true && !canTapFromBeginning(transport)) {
    throw new HeraldError(
      ErrorCodes.UNSUPPORTED,
      `The ${transport.name} transport cannot tap from the beginning: a new group's queues hold only the events published after they exist`,
      { permanent: true, details: { option: 'fromBeginning' } },
    );
  }
  const subscription: Subscription = transport.subscribe(
    {
      group,
      topics: options.topics,
      concurrency: 1,
      startFrom: options.fromBeginning === true ? 'earliest' : 'latest',
    },
    async (delivery) => {
      try {
        const event = toTapEvent(delivery);
        if (matchesFilter(event, options)) await onEvent(event);
      } catch (error) {
        // A consumer of the tap failing must not stall the tap: reported, and the record acknowledged below.
        options.onError?.(error);
      }
      await delivery.ack();
    },
  );
  let closing: Promise<void> | undefined;
  return {
    group,
    ready: subscription.ready,
    close: () => (closing ??= subscription.close({ timeoutMs: 2000 })),
  };
}
