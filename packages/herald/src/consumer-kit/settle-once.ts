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
  let settled = false;
  const settle = async (action: SettleAction, run: () => Promise<void>): Promise<void> => {
    if (settled) throw new HeraldError(ErrorCodes.TRANSPORT, `${options.subject} settled twice`);
    settled = true;
    options.onClaim?.();
    if (options.skip?.() === true) return;
    try {
      await run();
    } catch (error) {
      throw options.onFailure === undefined ? error : options.onFailure(error, action);
    }
  };
  return {
    ...fields,
    ack: () => settle('ack', () => actions.ack()),
    retryLater: (delayMs: number, error: ErrorInfo) =>
      settle('retryLater', () => actions.retryLater(delayMs, error)),
    deadLetter: (failure: DeadLetterFailure) => settle('deadLetter', () => actions.deadLetter(failure)),
  };
}
