/**
 * Tracks the records of one partition that are in flight, so that a consumer commits only below the oldest
 * unfinished one: a crash then redelivers every record that was not finished, and none that was committed.
 */
export class OffsetTracker {
  readonly #inFlight = new Set<bigint>();
  #highest = -1n;

  /** Marks `offset` as delivered and unfinished. Offsets must be tracked in increasing order. */
  track(offset: bigint): void {
    this.#inFlight.add(offset);
    if (offset > this.#highest) this.#highest = offset;
  }

  /** Marks `offset` as finished (acked, parked for retry, or dead-lettered). */
  finish(offset: bigint): void {
    this.#inFlight.delete(offset);
  }

  /** Number of unfinished records. */
  get size(): number {
    return this.#inFlight.size;
  }

  /**
   * The position safe to commit: the oldest unfinished offset, or one past the highest tracked when all are
   * finished. `undefined` before anything was tracked.
   */
  committable(): bigint | undefined {
    if (this.#highest < 0n) return undefined;
    let lowest: bigint | undefined;
    for (const offset of this.#inFlight) if (lowest === undefined || offset < lowest) lowest = offset;
    return lowest ?? this.#highest + 1n;
  }
}
