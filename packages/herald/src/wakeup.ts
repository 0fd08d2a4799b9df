/**
 * A wake-up signal for a polling loop: `wait(ms)` resolves on `notify()` or after `ms`, whichever comes first.
 * A notification that arrives while nobody waits is kept for the next `wait`, so no wake-up is lost between a
 * check and the wait that follows it.
 */
export class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  notify(): void {
    this.#pending = true;
    this.#fire();
  }

  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => this.#fire(), ms);
    });
  }

  #fire(): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#pending = false;
    this.#resolve = undefined;
    clearTimeout(this.#timer);
    resolve();
  }
}
