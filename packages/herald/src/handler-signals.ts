/**
 * Makes the `signal` each handling sees: aborted when the router shuts down past its timeout, and when the
 * transport loses the delivery's lease. Neither long-lived source keeps a handling's signal alive: the router
 * holds each one weakly (a handler still running after its delivery settled, past a `timeout` middleware, is
 * still told of the shutdown while it holds the signal), and the lease link is undone once the delivery is
 * settled. `AbortSignal.any` would do the same in one call, but leaks on long-lived sources in Node 20–22
 * (nodejs/node#54614, #55351).
 */
export class HandlerSignals {
  readonly #shutdown: AbortSignal;
  readonly #controllers = new WeakMap<AbortSignal, AbortController>();
  #followers = new Set<WeakRef<AbortSignal>>();
  #prunedAt = 0;

  constructor(shutdown: AbortSignal) {
    this.#shutdown = shutdown;
    shutdown.addEventListener('abort', () => this.#abortAll(), { once: true });
  }

  /**
   * A signal aborted by the shutdown or by `lease`, whichever comes first (with its reason), and `release`, which
   * unlinks it from `lease` (call it when the delivery is settled). Without a lease, the shutdown signal itself.
   */
  follow(lease: AbortSignal | undefined): { signal: AbortSignal; release: () => void } {
    if (lease === undefined || this.#shutdown.aborted) return { signal: this.#shutdown, release: noop };
    if (lease.aborted) return { signal: lease, release: noop };
    const controller = new AbortController();
    const { signal } = controller;
    this.#controllers.set(signal, controller);
    this.#followers.add(new WeakRef(signal));
    if (this.#followers.size > 2 * this.#prunedAt + 64) this.#prune();
    const onLease = (): void => controller.abort(lease.reason);
    lease.addEventListener('abort', onLease, { once: true });
    return { signal, release: () => lease.removeEventListener('abort', onLease) };
  }

  #abortAll(): void {
    for (const ref of this.#followers) {
      const signal = ref.deref();
      if (signal !== undefined) this.#controllers.get(signal)?.abort(this.#shutdown.reason);
    }
    this.#followers.clear();
  }

  /** Drops the handlings' signals already collected; run when the set doubles, so amortized O(1) per delivery. */
  #prune(): void {
    const live = new Set<WeakRef<AbortSignal>>();
    for (const ref of this.#followers) {
      const signal = ref.deref();
      if (signal !== undefined && !signal.aborted) live.add(ref);
    }
    this.#followers = live;
    this.#prunedAt = live.size;
  }
}

const noop = (): void => undefined;
