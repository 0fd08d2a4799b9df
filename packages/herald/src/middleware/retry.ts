import { backoffDelay, checkBackoff, sleep, type BackoffOptions } from '../backoff.ts';
import { configError, isPermanent } from '../errors.ts';
import { callNext, named, type MessageContext, type Middleware } from '../middleware.ts';

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Handler calls per delivery, the first included. Default 3. */
  readonly attempts?: number;
  /** Backoff between calls. Default 50 ms growing ×2 up to 1 s, half jittered. */
  readonly backoff?: BackoffOptions;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 50, maxMs: 1000, factor: 2, jitter: 0.5 };

/**
 * Immediate retries: calls the rest of the chain up to `attempts` times in this delivery, with exponential
 * backoff and jitter between calls. A permanent error (validation, `PermanentError`) is rethrown at once. The
 * last error is rethrown for the redelivery and dead-letter middleware. Same-key events wait meanwhile, so
 * keep this short; long waits belong to `redelivery`.
 */
export function retry(options: RetryOptions = {}): Middleware {
  const attempts = options.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw configError('retry.attempts', 'an integer >= 1', attempts);
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  checkBackoff(backoff, 'retry.backoff');
  return named(`retry(attempts=${attempts})`, (next) => {
    /** After a failed try: waits its backoff and tries again, until a try succeeds or the error is final. */
    const again = async (context: MessageContext, failure: unknown): Promise<void> => {
      for (let error = failure; ;) {
        if (isPermanent(error) || context.tries >= attempts || context.signal.aborted) throw error;
        await sleep(backoffDelay(backoff, context.tries), context.signal).catch(() => undefined);
        if (context.signal.aborted) throw error;
        context.tries++;
        try {
          await next(context);
          return;
        } catch (caught) {
          error = caught;
        }
      }
    };
    // The first try is chained, not awaited: a delivery that succeeds at once costs no promise of this layer's.
    return (context) => {
      context.tries++;
      return callNext(next, context).then(undefined, (error: unknown) => again(context, error));
    };
  });
}
