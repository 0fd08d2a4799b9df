import { Lease, OffsetTracker, type CommittedPartition } from '@herald/core';
import { ListOffsetTimestamps, type Consumer } from '@platformatic/kafka';
import { transportError } from './kafka-errors.ts';

/** What a subscription knows of one assigned partition (an event topic's or the retry topic's). */
export interface PartitionState extends CommittedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly kind: 'event' | 'retry';
  /** Next offset to fetch. */
  cursor: bigint;
  /** Event partitions: held until the retry partition of the same number has been read up to its end. */
  waitingForRetry: boolean;
  /** Retry partitions: the end offset at assignment, to read before its event partitions are released. */
  catchUpTo: bigint | undefined;
  /**
   * This assignment of the partition, as its deliveries' `signal` sees it: lost when a rebalance gives the
   * partition to another member or this member's membership lapsed. Handlers running long never lose it: the
   * client heartbeats on its own timer.
   */
  readonly lease: Lease;
}

/** The partition is no longer this member's (or not under this membership): its deliveries' leases are lost. */
export function revokePartition(state: PartitionState, why: string): void {
  state.revoked = true;
  state.lease.lose(`${state.topic}/${state.partition} (${why})`);
}

/** The key a subscription files a partition under. */
export const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * The states of newly assigned partitions, each at its start: the group's committed offset, else (no commit
 * yet) the log's end for an event partition of a `latest` group, else the log's start. A retry partition
 * records the log's end at assignment in `catchUpTo`, to read it that far before its event partitions.
 */
export async function openPartitions(
  consumer: Consumer,
  fresh: readonly { topic: string; partition: number }[],
  group: { group: string; retryTopic: string; startFrom: 'earliest' | 'latest' | undefined },
): Promise<PartitionState[]> {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of fresh) {
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  let committed: Map<string, bigint[]>;
  let earliest: Map<string, bigint[]>;
  let latest: Map<string, bigint[]>;
  try {
    const topics = [...byTopic.keys()];
    const partitions = Object.fromEntries(byTopic);
    [committed, earliest, latest] = await Promise.all([
      consumer.listCommittedOffsets({
        topics: [...byTopic].map(([topic, list]) => ({ topic, partitions: list })),
      }),
      consumer.listOffsets({ topics, partitions, timestamp: ListOffsetTimestamps.EARLIEST }),
      consumer.listOffsets({ topics, partitions, timestamp: ListOffsetTimestamps.LATEST }),
    ]);
  } catch (error) {
    throw transportError(`read the offsets of group "${group.group}"`, error);
  }
  return fresh.map(({ topic, partition }) => {
    const kind = topic === group.retryTopic ? 'retry' : 'event';
    const stored = committed.get(topic)?.[partition];
    const end = latest.get(topic)?.[partition] ?? 0n;
    let cursor: bigint;
    if (stored !== undefined && stored >= 0n) cursor = stored;
    else if (kind === 'event' && group.startFrom === 'latest') cursor = end;
    else cursor = earliest.get(topic)?.[partition] ?? 0n;
    return {
      topic,
      partition,
      kind,
      cursor,
      tracker: new OffsetTracker(),
      lastCommitted: stored !== undefined && stored >= 0n ? stored : undefined,
      revoked: false,
      waitingForRetry: false,
      catchUpTo: kind === 'retry' && end > cursor ? end : undefined,
      lease: new Lease(),
    };
  });
}
