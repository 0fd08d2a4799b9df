import type { LogStore } from './log-store.ts';

/** Records released per {@link LogStore.releaseDue} call; the releaser calls again while a call fills it. */
const RELEASE_BATCH = 256;
/** At most one check per this many ms for wake-ups (appends anywhere on the store), which may be held records. */
const WAKE_CHECK_MS = 25;

/**
 * Appends a log store's held (scheduled) records when they fall due: the log transport runs one from its first
 * subscription or first held publish until it closes. It checks at the earliest due time it knows, within
 * {@link WAKE_CHECK_MS} of a wake-up (another process may have held a record due sooner), and at least every poll
 * interval (a record held by a process that then died). Every process sharing a store may run one: the store
 * releases each record exactly once. Its timers do not keep the process alive.
 */
export class ScheduledReleaser {
  readonly #store: LogStore;
  readonly #pollIntervalMs: number;
  readonly #onError: (error: unknown) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #running: Promise<void> | undefined;
  #again = false;
  #lastCheck = 0;
  #unwatch: (() => void) | undefined;
  #closed = false;

  constructor(store: LogStore, pollIntervalMs: number, onError: (error: unknown) => void) {
    this.#store = store;
    this.#pollIntervalMs = pollIntervalMs;
    this.#onError = onError;
  }

  /** Starts watching and checks now. Idempotent. */
  start(): void {
    if (this.#closed || this.#unwatch !== undefined) return;
    this.#unwatch = this.#store.watch(() => this.#onWake());
    this.#check();
  }

  /** A record was just held, due at `dueAt` (ms since the epoch): check then, if sooner than planned. */
  expect(dueAt: number): void {
    this.start();
    this.#arm(dueAt);
  }

  /** Stops the timers and waits for a release in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unwatch?.();
    this.#clearTimer();
    await this.#running;
  }

  #onWake(): void {
    this.#arm(Math.max(Date.now(), this.#lastCheck + WAKE_CHECK_MS));
  }

  #arm(at: number): void {
    if (this.#closed || at >= this.#timerAt) return;
    this.#clearTimer();
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
        this.#check();
      },
      Math.max(0, at - Date.now()),
    );
    this.#timer.unref?.();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #check(): void {
    if (this.#closed) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#releaseAll().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.#check();
      }
    });
  }

  async #releaseAll(): Promise<void> {
    let nextDue: number | undefined;
    try {
      for (;;) {
        this.#lastCheck = Date.now();
        const result = await this.#store.releaseDue(this.#lastCheck, RELEASE_BATCH);
        nextDue = result.nextDue;
        if (result.released < RELEASE_BATCH || this.#closed) break;
      }
    } catch (error) {
      // A failed release (store busy, closing) is retried at the next poll; nothing was released or lost.
      if (!this.#closed) this.#onError(error);
    }
    const poll = Date.now() + this.#pollIntervalMs;
    this.#arm(nextDue === undefined ? poll : Math.min(nextDue, poll));
  }
}
