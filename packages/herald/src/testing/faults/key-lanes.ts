/**
 * Runs tasks one at a time per key, in submission order; tasks without a key run at once. The fault kit puts a
 * late duplicate in its key's lane so it never runs beside a newer record of the same key, as the transport
 * contract promises.
 */
export class KeyLanes {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` after every task submitted before it for `key`; resolves or rejects with it. */
  run<T>(key: string | undefined, task: () => Promise<T>): Promise<T> {
    if (key === undefined) return task();
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
