import { configError } from './errors.ts';

/** Exponential backoff with jitter. */
export interface BackoffOptions {
  /** Delay before the second attempt, in ms. */
  readonly initialMs: number;
  /** Upper bound of any delay, in ms. */
  readonly maxMs: number;
  /** Growth per attempt. Default 2. */
  readonly factor?: number;
  /** Fraction of the delay drawn at random ("equal jitter"): 0 = none, 1 = full jitter. Default 0.5. */
  readonly jitter?: number;
}

/** Checks backoff options at start-up. */
export function checkBackoff(options: BackoffOptions, prefix: string): void {
  if (!(options.initialMs >= 0)) throw configError(`${prefix}.initialMs`, 'a number >= 0', options.initialMs);
  if (!(options.maxMs >= options.initialMs)) {
    throw configError(`${prefix}.maxMs`, `a number >= initialMs (${options.initialMs})`, options.maxMs);
  }
  const factor = options.factor ?? 2;
  if (!(factor >= 1)) throw configError(`${prefix}.factor`, 'a number >= 1', factor);
  const jitter = options.jitter ?? 0.5;
  if (!(jitter >= 0 && jitter <= 1)) throw configError(`${prefix}.jitter`, 'a number from 0 to 1', jitter);
}

/**
 * The delay before attempt `attempt + 1` after `attempt` failures (attempt >= 1):
 * `min(maxMs, initialMs * factor^(attempt-1))`, of which a `jitter` fraction is random.
 */
export function backoffDelay(
  options: BackoffOptions,
  attempt: number,
  random: () => number = Math.random,
): number {
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.5;
  const base = Math.min(options.maxMs, options.initialMs * factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - jitter) + base * jitter * random());
}

/** Resolves after `ms`, or at once (rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
