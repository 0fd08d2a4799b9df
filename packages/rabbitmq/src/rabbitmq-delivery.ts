import type { Channel, ConsumeMessage } from 'amqplib';
import {
  ErrorCodes,
  HeraldError,
  settleOnce,
  type Delivery,
  type Lease,
  type SettleAction,
  type TransportRecord,
} from '@herald/core';
import { attemptOf } from './amqp-binding.ts';
import type { ConfirmPublisher } from './confirm-publisher.ts';
import { toHeraldError } from './rabbitmq-errors.ts';

/**
 * The partition a message came from, as its delivery sees it: `closed` is read when the delivery settles; the
 * channel's `lease` is the delivery's `signal`.
 */
export interface DeliveredFrom {
  readonly partition: number;
  readonly queue: string;
  readonly channel: Channel;
  readonly closed: boolean;
  readonly lease: Lease;
}

const WHAT: Record<SettleAction, string> = {
  ack: 'acknowledging',
  retryLater: 'scheduling a redelivery',
  deadLetter: 'dead-lettering',
};

/**
 * The delivery of `message` from a partition queue to `group`, settled at most once (`settleOnce`): `ack` acks
 * on the partition's channel; `retryLater` and `deadLetter` publish the record (confirmed) to the delay tier or
 * the dead-letter queue and then ack, or hand the message straight back (nack, requeue) when that publish fails,
 * so it is never held unacknowledged. Nothing is done once `abandoned()` (shut down: the channel closes and the
 * broker has the message); a settle after the channel was lost rejects with `HERALD_TRANSPORT` (the broker
 * redelivers it). Failures are `HERALD_TRANSPORT` errors naming what was being done.
 */
export function rabbitmqDelivery(
  group: string,
  from: DeliveredFrom,
  message: ConsumeMessage,
  record: TransportRecord,
  publisher: ConfirmPublisher,
  abandoned: () => boolean,
): Delivery {
  const attempt = attemptOf(message);
  const offset = String(message.fields.deliveryTag);
  const onChannel = async (what: string, action: () => Promise<void>): Promise<void> => {
    if (from.closed) {
      throw new HeraldError(
        ErrorCodes.TRANSPORT,
        `Lost the channel of ${from.queue} before ${what}; the record will be redelivered`,
      );
    }
    await action();
  };
  const requeueOnFailure = async (action: () => Promise<void>): Promise<void> => {
    try {
      await action();
    } catch (error) {
      // Not moved: hand it back now rather than hold it unacknowledged until the channel closes.
      try {
        from.channel.nack(message, false, true);
      } catch {
        // The channel is gone; the broker has returned the message already.
      }
      throw error;
    }
    from.channel.ack(message);
  };
  return settleOnce(
    { record, group, partition: from.partition, offset, attempt, signal: from.lease.signal },
    {
      ack: () =>
        onChannel(WHAT.ack, () => {
          from.channel.ack(message);
          return Promise.resolve();
        }),
      retryLater: (delayMs, error) =>
        onChannel(WHAT.retryLater, () =>
          requeueOnFailure(() =>
            publisher.delay(record, from.queue, attempt + 1, delayMs, `${error.name}: ${error.message}`),
          ),
        ),
      deadLetter: (failure) =>
        onChannel(WHAT.deadLetter, () =>
          requeueOnFailure(async () => {
            await publisher.deadLetter(record, failure, { group, partition: from.partition, offset });
          }),
        ),
    },
    {
      subject: `Delivery ${from.queue}#${offset}`,
      skip: abandoned,
      onFailure: (error, action) => toHeraldError(error, WHAT[action]),
    },
  );
}
