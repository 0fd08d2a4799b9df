import { configError } from './errors.ts';

interface Lane {
  readonly queue: (() => Promise<void>)[];
  running: boolean;
}

/**
 * Runs tasks in order per key and in parallel across keys, at most `concurrency` at once. Transports use it to
 * give "order per key, parallel across keys up to a limit". Tasks without a key are unordered.
 *
 * `submit` applies back-pressure: it resolves once the task is accepted, and waits while `maxPending` tasks are
 * queued or running, so a fetch loop that awaits it never buffers without bound.
 */
export class KeyedExecutor {
  readonly #concurrency: number;
  readonly #maxPending: number;
  readonly #lanes = new Map<string | symbol, Lane>();
  readonly #ready: (string | symbol)[] = [];
  #running = 0;
  #pending = 0;
  #waiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];
  readonly #onError: (error: unknown) => void;

  constructor(
    concurrency: number,
    options: { maxPending?: number; onError?: (error: unknown) => void } = {},
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw configError('concurrency', 'an integer >= 1', concurrency);
    }
    this.#concurrency = concurrency;
    this.#maxPending = options.maxPending ?? concurrency * 4;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Tasks accepted and not finished. */
  get pending(): number {
    return this.#pending;
  }

  /** Accepts a task for `key`; resolves when accepted (not when run). */
  async submit(key: string | undefined, task: () => Promise<void>): Promise<void> {
    while (this.#pending >= this.#maxPending) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    this.#pending++;
    const laneKey: string | symbol = key ?? Symbol('unkeyed');
    let lane = this.#lanes.get(laneKey);
    if (lane === undefined) {
      lane = { queue: [], running: false };
      this.#lanes.set(laneKey, lane);
    }
    lane.queue.push(task);
    if (!lane.running && lane.queue.length === 1) this.#ready.push(laneKey);
    this.#pump();
  }

  /** Resolves when every accepted task has finished. */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#ready.length > 0) {
      const laneKey = this.#ready.shift()!;
      const lane = this.#lanes.get(laneKey)!;
      const task = lane.queue.shift()!;
      lane.running = true;
      this.#running++;
      void this.#run(laneKey, lane, task);
    }
  }

  async #run(laneKey: string | symbol, lane: Lane, task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (error) {
      this.#onError(error);
    }
    this.#running--;
    this.#pending--;
    lane.running = false;
    if (lane.queue.length > 0) this.#ready.push(laneKey);
    else this.#lanes.delete(laneKey);
    const waiter = this.#waiters.shift();
    if (waiter) waiter();
    if (this.#pending === 0) {
      const idle = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of idle) resolve();
    }
    this.#pump();
  }
}
