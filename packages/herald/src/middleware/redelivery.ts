import { backoffDelay, checkBackoff, type BackoffOptions } from '../backoff.ts';
import { configError, describeError, isPermanent } from '../errors.ts';
import { callNext, named, type Middleware } from '../middleware.ts';

/** Options of {@link redelivery}. */
export interface RedeliveryOptions {
  /** Deliveries in all, the first included, before the error goes on to the dead-letter queue. Default 5. */
  readonly maxDeliveries?: number;
  /** Delay before each redelivery. Default 1 s growing ×2 up to 60 s, half jittered. */
  readonly backoff?: BackoffOptions;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60_000, factor: 2, jitter: 0.5 };

/**
 * Delayed redelivery: when the chain fails with a retryable error and this was not the last delivery, the
 * event is handed back to the transport to come again after a backoff delay. The consumer moves on meanwhile:
 * other keys flow; where the transport is ordered per key, only the failing key waits. Permanent errors and the
 * last delivery's error are rethrown (to the dead-letter middleware).
 */
export function redelivery(options: RedeliveryOptions = {}): Middleware {
  const maxDeliveries = options.maxDeliveries ?? 5;
  if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) {
    throw configError('redelivery.maxDeliveries', 'an integer >= 1', maxDeliveries);
  }
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  checkBackoff(backoff, 'redelivery.backoff');
  return named(
    `redelivery(maxDeliveries=${maxDeliveries})`,
    (next) => (context) =>
      callNext(next, context).then(undefined, (error: unknown) => {
        if (isPermanent(error) || context.delivery.attempt >= maxDeliveries || context.settled) throw error;
        return context.retryLater(backoffDelay(backoff, context.delivery.attempt), describeError(error));
      }),
  );
}
