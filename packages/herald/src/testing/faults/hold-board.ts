/**
 * Where held deliveries wait for a delivery of another key that started after them to finish: the fault kit's
 * reordering across keys. A held delivery keeps its key's lane (the transport does not hand out the key's next
 * record until it settles), so keys overtake each other while each key keeps its order.
 */
export class HoldBoard {
  #sequence = 0;
  readonly #waiters = new Set<{ mark: number; key: string | undefined; wake: () => void }>();

  /** Records that a delivery of `key` started. Returns its mark, for {@link finished} and {@link hold}. */
  started(): number {
    return ++this.#sequence;
  }

  /** Records that the delivery of `key` marked `mark` finished; wakes the held deliveries it overtook. */
  finished(mark: number, key: string | undefined): void {
    for (const waiter of this.#waiters) {
      if (waiter.mark < mark && waiter.key !== key) waiter.wake();
    }
  }

  /** Waits until a delivery of another key, started after `mark`, finishes, or `maxMs` passes. */
  hold(mark: number, key: string | undefined, maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter = {
        mark,
        key,
        wake: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, maxMs);
      this.#waiters.add(waiter);
    });
  }
}
