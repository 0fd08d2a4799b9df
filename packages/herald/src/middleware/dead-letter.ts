import { deadLetterReason, describeError } from '../errors.ts';
import { callNext, named, type Middleware } from '../middleware.ts';

/**
 * The outermost failure handler: any error that reaches it moves the event to the group's dead-letter queue,
 * with the error (message, code, stack), the attempts, the reason, the group and the original
 * topic/partition/offset. The group then moves on.
 */
export function deadLetter(): Middleware {
  return named(
    'dead-letter',
    (next) => (context) =>
      // Chained, not awaited: a delivery that succeeds costs no promise of this layer's own.
      callNext(next, context).then(undefined, (error: unknown) => {
        if (context.settled) throw error;
        return context.deadLetter({
          error: describeError(error),
          attempts: context.delivery.attempt,
          reason: deadLetterReason(error),
        });
      }),
  );
}
