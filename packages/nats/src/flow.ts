/**
 * Bounds how many received records a subscription buffers (queued or running, not held): fetch loops wait for
 * room before pulling and ask for no more than the room left, so a slow handler slows the pulls instead of
 * filling memory. Records held behind a parked key are not counted (the server's `max_ack_pending` bounds them).
 */
export class Flow {
  readonly #limit: number;
  #buffered = 0;
  #waiters: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  get buffered(): number {
    return this.#buffered;
  }

  /** How many records a pull may ask for now, at most `max`. */
  room(max: number): number {
    return Math.max(0, Math.min(max, this.#limit - this.#buffered));
  }

  take(count = 1): void {
    this.#buffered += count;
  }

  give(count = 1): void {
    this.#buffered -= count;
    if (this.#buffered < this.#limit) this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once there is room, or at once when `signal` is aborted. */
  async waitForRoom(signal: AbortSignal): Promise<void> {
    while (this.#buffered >= this.#limit && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#waiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}
