import { ErrorCodes, HeraldError } from '../errors.ts';

/**
 * What a consumer holds while it handles deliveries: a partition's ownership, a channel's unacknowledged
 * messages, a message's visibility. Its `signal` (the deliveries' `Delivery.signal`) aborts once, with a
 * `HERALD_LEASE_LOST` error as its reason, when the consumer learns the lease is gone: the broker or store
 * redelivers what it covered, so the outcome of a handling under it no longer counts. One lease may cover many
 * deliveries (every record of a partition), so keeping it costs nothing per delivery.
 */
export class Lease {
  readonly #controller = new AbortController();

  /** Aborted (reason: `HERALD_LEASE_LOST`) once the lease is lost; never before. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether the lease was lost: what it covered is redelivered, so settling it now does nothing. */
  get lost(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Marks the lease lost, saying why (`why` completes "Lost the lease of …"). Later calls do nothing. */
  lose(why: string): void {
    if (this.lost) return;
    this.#controller.abort(
      new HeraldError(ErrorCodes.LEASE_LOST, `Lost the lease of ${why}; it is redelivered`),
    );
  }
}
