import type { CloseOptions } from '../transport.ts';

/** How long a subscription's close waits for in-flight deliveries when the caller gives no `timeoutMs`. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/**
 * Resolves `true` when `work` resolves within `timeoutMs`, `false` when the time runs out first (the work goes
 * on; the caller abandons it). A rejection of `work` within the time rejects. No timer outlives the call.
 */
export async function settlesWithin(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a subscription's close once: every call, concurrent or later, gets the first call's promise, and the
 * timeout is the first call's `timeoutMs` (default {@link DEFAULT_CLOSE_TIMEOUT_MS}).
 */
export class CloseOnce {
  #closing: Promise<void> | undefined;

  /** Starts `close(timeoutMs)` on the first call; returns its promise on every call. */
  run(options: CloseOptions, close: (timeoutMs: number) => Promise<void>): Promise<void> {
    this.#closing ??= close(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closing;
  }
}
