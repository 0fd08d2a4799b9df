import type { Transport, TransportRecord } from '@herald/core';

/**
 * Gathers the records published during one turn of the event loop into one `transport.publish` call: the
 * graphile-worker relay's tasks run concurrently, one job each, and this gives them the batched publish that
 * Herald's relay and the bare loop get by publishing a claimed batch at once. Each `publish` resolves when the call
 * holding its record is acknowledged, and rejects with that call's error.
 */
export class CoalescingPublisher {
  readonly #transport: Pick<Transport, 'publish'>;
  #pending: { record: TransportRecord; resolve: () => void; reject: (error: unknown) => void }[] = [];
  #scheduled = false;
  /** `transport.publish` calls made. */
  calls = 0;
  /** Records acknowledged. */
  published = 0;

  constructor(transport: Pick<Transport, 'publish'>) {
    this.#transport = transport;
  }

  publish(record: TransportRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ record, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => void this.#flush());
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    this.#scheduled = false;
    this.calls++;
    try {
      await this.#transport.publish(batch.map((p) => p.record));
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    this.published += batch.length;
    for (const p of batch) p.resolve();
  }
}
