import {
  settleOnce,
  type DeadLetterFailure,
  type Delivery,
  type Lease,
  type TransportRecord,
} from '@herald/core';
import type { Origin } from './envelopes.ts';
import { transportError } from './kafka-errors.ts';

/** What settling a Kafka delivery does: each runs at most once per delivery. */
export interface KafkaSettleActions {
  ack(): Promise<void>;
  retryLater(delayMs: number): Promise<void>;
  deadLetter(failure: DeadLetterFailure): Promise<void>;
}

/** A delivery of a record, and whether its settle failed (the broker was unreachable). */
export interface KafkaDelivery {
  readonly delivery: Delivery;
  readonly failed: () => boolean;
}

/**
 * The delivery of the record from `origin` to `group` under `lease` (its `signal`): settled at most once (a second
 * settle rejects with `HERALD_TRANSPORT`), not at all once `abandoned()` or the lease is lost (the group is
 * redelivered it, and acting now could lose or duplicate it). A failed settle rejects with `HERALD_TRANSPORT` and
 * shows in `failed()`.
 */
export function kafkaDelivery(
  group: string,
  origin: Origin,
  record: TransportRecord,
  attempt: number,
  lease: Lease,
  actions: KafkaSettleActions,
  abandoned: () => boolean,
): KafkaDelivery {
  let failed = false;
  const delivery = settleOnce(
    {
      record,
      group,
      partition: origin.partition,
      offset: origin.offset.toString(),
      attempt,
      signal: lease.signal,
    },
    {
      ack: () => actions.ack(),
      retryLater: (delayMs) => actions.retryLater(delayMs),
      deadLetter: (failure) => actions.deadLetter(failure),
    },
    {
      subject: `Record ${origin.topic}/${origin.partition}/${origin.offset}`,
      skip: () => abandoned() || lease.lost,
      onFailure: (error) => {
        failed = true;
        return transportError('settle a delivery', error);
      },
    },
  );
  return { delivery, failed: () => failed };
}
