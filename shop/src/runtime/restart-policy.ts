import { configError } from '@herald/core';

/** When `npm start` restarts a crashed service, and when it gives up. */
export interface RestartPolicyOptions {
  /** First delay before a restart. Default 500 ms; doubles per consecutive crash. */
  readonly initialDelayMs: number;
  /** Ceiling of the delay. Default 30 s. */
  readonly maxDelayMs: number;
  /** A service that stayed up this long is healthy again: the next crash waits `initialDelayMs`. Default 30 s. */
  readonly resetAfterMs: number;
  /** Give up (stop the whole shop, exit 1) at the `limit`-th crash of one service within `windowMs`. Default 5. */
  readonly limit: number;
  /** The window of `limit`. Default 60 s. */
  readonly windowMs: number;
}

/** The defaults of {@link RestartPolicyOptions}. */
export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  resetAfterMs: 30_000,
  limit: 5,
  windowMs: 60_000,
};

/** Reads a positive integer from `env[name]`, or `fallback` when unset. Throws `HERALD_CONFIG` naming it. */
export function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw configError(name, 'a positive integer', text);
  return value;
}

/**
 * The restart policy from `HERALD_RESTART_LIMIT` and `HERALD_RESTART_WINDOW_MS` (the rest are the defaults).
 * Throws `HERALD_CONFIG` naming the variable on a value that is not a positive integer.
 */
export function restartPolicyFrom(env: NodeJS.ProcessEnv): RestartPolicyOptions {
  return {
    ...DEFAULT_RESTART_POLICY,
    limit: positiveInteger(env, 'HERALD_RESTART_LIMIT', DEFAULT_RESTART_POLICY.limit),
    windowMs: positiveInteger(env, 'HERALD_RESTART_WINDOW_MS', DEFAULT_RESTART_POLICY.windowMs),
  };
}

/** What to do after a crash: restart after `delayMs` (the `restart`-th restart), or give up. */
export type RestartDecision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly restart: number }
  | { readonly action: 'give-up'; readonly crashes: number; readonly windowMs: number };

/**
 * The crash history of one service. Guarantee: the delays are `initialDelayMs · 2^(n-1)` capped at `maxDelayMs`
 * for the n-th consecutive crash, back to `initialDelayMs` once a run lasted `resetAfterMs`; `give-up` exactly
 * when `limit` crashes fall within `windowMs`.
 */
export class RestartPolicy {
  private consecutive = 0;
  private restarts = 0;
  private readonly crashTimes: number[] = [];

  constructor(private readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {}

  /** Records a crash at `now` of a run that started at `startedAt`, and decides. */
  crashed(now: number, startedAt: number): RestartDecision {
    if (now - startedAt >= this.options.resetAfterMs) this.consecutive = 0;
    this.crashTimes.push(now);
    while (this.crashTimes.length > 0 && now - this.crashTimes[0]! > this.options.windowMs)
      this.crashTimes.shift();
    if (this.crashTimes.length >= this.options.limit)
      return { action: 'give-up', crashes: this.crashTimes.length, windowMs: this.options.windowMs };
    this.consecutive += 1;
    this.restarts += 1;
    const delayMs = Math.min(
      this.options.maxDelayMs,
      this.options.initialDelayMs * 2 ** (this.consecutive - 1),
    );
    return { action: 'restart', delayMs, restart: this.restarts };
  }
}
