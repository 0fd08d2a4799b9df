import { ErrorCodes, HeraldError, type ErrorInfo } from '../errors.ts';
import type { DeadLetterFailure, Delivery } from '../transport.ts';

/** The three ways a delivery is settled. */
export type SettleAction = 'ack' | 'retryLater' | 'deadLetter';

/** What a transport does to settle one delivery; {@link settleOnce} guards each so only one ever runs. */
export interface SettleActions {
  ack(): Promise<void>;
  retryLater(delayMs: number, error: ErrorInfo): Promise<void>;
  deadLetter(failure: DeadLetterFailure): Promise<void>;
}

/** How {@link settleOnce} guards a delivery. */
export interface SettleOnceOptions {
  /** Names the record in the error a second settle throws (`<subject> settled twice`). */
  readonly subject: string;
  /** Called once, when the first settle claims the delivery (before `skip`). */
  readonly onClaim?: () => void;
  /**
   * Asked once the delivery is claimed: `true` skips the action. For a delivery abandoned at shutdown, which the
   * broker redelivers: acting on it now could lose or reorder it.
   */
  readonly skip?: () => boolean;
  /**
   * The error the caller of a failed action sees, from the action's error. It may also act (count the failure,
   * hand the record back); it runs once per failed action.
   */
  readonly onFailure?: (error: unknown, action: SettleAction) => unknown;
}

/**
 * A {@link Delivery} whose `ack`, `retryLater` and `deadLetter` settle it at most once: the first call claims it
 * and runs its action (unless `skip` says otherwise); any later call rejects with `HERALD_TRANSPORT` and runs
 * nothing, even while the first is still under way. A failed action stays claimed: the transport decides, in
 * `onFailure`, how the record comes back.
 */
export function settleOnce(
  fields: Omit<Delivery, keyof SettleActions>,
  actions: SettleActions,
  options: SettleOnceOptions,
): Delivery {
  return new OnceSettledDelivery(fields, actions, options);
}

/**
 * The delivery {@link settleOnce} returns: a class, so each delivery is one object of one shape with its methods on
 * the prototype, not a spread of the fields plus four closures.
 */
class OnceSettledDelivery implements Delivery {
  readonly record: Delivery['record'];
  readonly group: string;
  readonly partition: number;
  readonly offset: string;
  readonly attempt: number;
  readonly signal: AbortSignal | undefined;
  readonly #actions: SettleActions;
  readonly #options: SettleOnceOptions;
  #settled = false;

  constructor(
    fields: Omit<Delivery, keyof SettleActions>,
    actions: SettleActions,
    options: SettleOnceOptions,
  ) {
    this.record = fields.record;
    this.group = fields.group;
    this.partition = fields.partition;
    this.offset = fields.offset;
    this.attempt = fields.attempt;
    this.signal = fields.signal;
    this.#actions = actions;
    this.#options = options;
  }

  ack(): Promise<void> {
    return this.#settle('ack', () => this.#actions.ack());
  }

  retryLater(delayMs: number, error: ErrorInfo): Promise<void> {
    return this.#settle('retryLater', () => this.#actions.retryLater(delayMs, error));
  }

  deadLetter(failure: DeadLetterFailure): Promise<void> {
    return this.#settle('deadLetter', () => this.#actions.deadLetter(failure));
  }

  async #settle(action: SettleAction, run: () => Promise<void>): Promise<void> {
    const options = this.#options;
    if (this.#settled) throw new HeraldError(ErrorCodes.TRANSPORT, `${options.subject} settled twice`);
    this.#settled = true;
    options.onClaim?.();
    if (options.skip?.() === true) return;
    try {
      await run();
    } catch (error) {
      throw options.onFailure === undefined ? error : options.onFailure(error, action);
    }
  }
}
