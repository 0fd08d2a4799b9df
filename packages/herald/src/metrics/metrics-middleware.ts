import { describeError } from '../errors.ts';
import { callNext, named, type MessageContext, type MessageHandler, type Middleware } from '../middleware.ts';
import { safely } from '../safely.ts';
import { observeDelivery } from '../tracing/delivery-observer.ts';
import { errorType } from '../tracing/semantic-conventions.ts';
import { messagingMetrics, type DeliveryLabels, type MessagingMetrics } from './messaging-metrics.ts';

/**
 * Counts each delivery into the registered {@link MessagingMetrics}: processed, failed (redelivered or
 * dead-lettered), retried (immediate and delayed), and the duration of each handler call (with
 * `observeHandler()` inside `retry`). Put it outside the failure handling; the router's default pipeline does when
 * telemetry is on. Without a registered backend it only calls `next`. Dead letters and skipped events are counted
 * by the router itself, since some never reach the chain (a record that cannot be decoded).
 */
export function metrics(): Middleware {
  return named('metrics', (next) => (context) => {
    const recorder = messagingMetrics();
    return recorder === undefined ? callNext(next, context) : measured(next, context, recorder);
  });
}

/** The delivery through `next`, counted and timed in `recorder`. */
async function measured(
  next: MessageHandler,
  context: MessageContext,
  recorder: MessagingMetrics,
): Promise<void> {
  const labels: DeliveryLabels = {
    topic: context.delivery.record.topic,
    type: context.event.type,
    group: context.group,
  };
  let failure: string | undefined;
  const observed = observeDelivery(context, {
    tryStarted(tries) {
      if (tries > 1) recorder.retried(labels, 'immediate');
    },
    tryEnded(_tries, durationMs, error) {
      recorder.handlerDuration(
        labels,
        durationMs / 1000,
        error === undefined ? undefined : errorType(describeError(error)),
      );
    },
    retriedLater(_delayMs, error) {
      failure = errorType(error);
      recorder.retried(labels, 'redelivery');
    },
    // Counted in `herald_events_dead_lettered_total` by the router, which sees every dead letter.
    deadLettered(dead) {
      failure = errorType(dead.error);
    },
  });
  try {
    await next(observed);
  } catch (error) {
    safely(() => recorder.failed(labels, errorType(describeError(error))));
    throw error;
  }
  const failed = failure;
  safely(() => (failed === undefined ? recorder.processed(labels) : recorder.failed(labels, failed)));
}
