import { ErrorCodes, HeraldError } from '../errors.ts';

/**
 * The `ready` promise of a subscription: resolved once its partitions are claimed and it receives, rejected when
 * setting up failed or the subscription closed first. Settles once; later calls do nothing. A caller that never
 * awaits `promise` sees no unhandled rejection.
 */
export class Readiness {
  /** The subscription's `ready`. */
  readonly promise: Promise<void>;
  #resolve!: () => void;
  #reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.promise.catch(() => undefined);
  }

  /** The partitions are claimed and records flow. */
  resolve(): void {
    this.#resolve();
  }

  /** Setting up failed with `error`. */
  reject(error: unknown): void {
    this.#reject(error);
  }

  /** The subscription closed: if it was not ready yet, `ready` rejects with `HERALD_CLOSED`. */
  closed(): void {
    this.#reject(new HeraldError(ErrorCodes.CLOSED, 'Subscription closed before it was ready'));
  }
}
