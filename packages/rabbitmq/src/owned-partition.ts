import type { Channel } from 'amqplib';
import { Lease } from '@herald/core';

/** One partition queue a member consumes, on its own channel. */
export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly queue: string;
  readonly channel: Channel;
  /** Deliveries handed to the handler and not finished. */
  running: number;
  /** Being handed over (or closing): nothing new starts; the channel closes once `running` is 0. */
  released: boolean;
  /** The channel is gone: what it held unacknowledged is back in the queue. */
  closed: boolean;
  idleWaiters: (() => void)[];
  /**
   * The channel's hold on its unacknowledged messages, as their deliveries' `signal` sees it: lost when the
   * channel closes (connection lost, the broker's `consumer_timeout`, shutdown), which returns them to the queue.
   * A hand-over waits for running deliveries before it closes the channel, so it never loses it.
   */
  readonly lease: Lease;
}

/** A topic of the subscription, and the partitions this member holds of it. */
export interface TopicState {
  readonly topic: string;
  readonly partitions: Map<number, PartitionState>;
  /** The connection generation the group's queues were last declared on. */
  declaredOn: number;
  /** The consumer saying this member is hungry (holds less than its fair share), on the members channel. */
  hungryTag: string | undefined;
}

/**
 * The state of a partition just claimed on `channel`, filed in `state.partitions`. When the channel closes it is
 * marked closed, its lease is lost, and `onClose` runs (to forget it once idle).
 */
export function ownPartition(
  state: TopicState,
  partition: number,
  queue: string,
  channel: Channel,
  released: boolean,
  onClose: (owned: PartitionState) => void,
): PartitionState {
  const owned: PartitionState = {
    topic: state.topic,
    partition,
    queue,
    channel,
    running: 0,
    released,
    closed: false,
    idleWaiters: [],
    lease: new Lease(),
  };
  state.partitions.set(partition, owned);
  channel.on('close', () => {
    owned.closed = true;
    owned.lease.lose(
      `the channel of ${queue} (it closed; its unacknowledged messages are back in the queue)`,
    );
    onClose(owned);
  });
  return owned;
}
