interface Entry<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers single operations into batch requests (SQS takes up to 10 entries per `DeleteMessageBatch` or
 * `ChangeMessageVisibilityBatch`). An operation waits at most until the event loop's next turn: what is added in
 * the same turn (acks of deliveries that finished together) goes out in one request, and a full batch goes at
 * once, so a lone ack pays no extra latency and a busy consumer makes a tenth of the requests.
 *
 * `send` returns, per entry in order, `undefined` for success or the entry's error; a rejected `send` fails every
 * entry of the batch.
 */
export class Batcher<T> {
  readonly #send: (items: T[]) => Promise<unknown[]>;
  readonly #max: number;
  #pending: Entry<T>[] = [];
  #scheduled = false;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(send: (items: T[]) => Promise<unknown[]>, max = 10) {
    this.#send = send;
    this.#max = max;
  }

  /** Resolves once the batch holding `item` succeeded for it; rejects with its entry's error. */
  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#pending.length >= this.#max) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  /** Resolves when everything added so far has been sent and answered. */
  async drain(): Promise<void> {
    this.#flush();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #flush(): void {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#max);
      const request = this.#sendBatch(batch);
      this.#inFlight.add(request);
      void request.finally(() => this.#inFlight.delete(request));
    }
  }

  async #sendBatch(batch: Entry<T>[]): Promise<void> {
    let results: unknown[];
    try {
      results = await this.#send(batch.map((entry) => entry.item));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
      return;
    }
    batch.forEach((entry, i) => {
      const error = results[i];
      if (error === undefined) entry.resolve();
      else entry.reject(error);
    });
  }
}
