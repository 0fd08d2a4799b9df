import { configError, ErrorCodes, HeraldError } from '../errors.ts';
import { named, type Middleware } from '../middleware.ts';

/**
 * Fails a handling that takes longer than `ms` with a retryable `HERALD_TIMEOUT`, so a stuck handler frees its
 * key for a redelivery instead of holding it forever. JavaScript cannot stop the late handler: it should watch
 * `context.signal`, and its effects must be idempotent (the inbox makes them so).
 */
export function timeout(options: { ms: number }): Middleware {
  const { ms } = options;
  if (!(ms > 0)) throw configError('timeout.ms', 'a number > 0', ms);
  return named(`timeout(${ms}ms)`, (next) => async (context) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        next(context),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            reject(
              new HeraldError(
                ErrorCodes.TIMEOUT,
                `Handler of ${context.event.type} ${context.event.id} took over ${ms} ms`,
              ),
            );
          }, ms);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  });
}
