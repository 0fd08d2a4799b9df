import type { ErrorInfo } from './errors.ts';
import type { EventDefinition } from './event-definition.ts';
import type { CloudEvent } from './message.ts';
import type { Publisher } from './publisher.ts';
import type { DeadLetterFailure, DeliveryView } from './transport.ts';
import { rejection } from './rejection.ts';

/**
 * One delivery travelling through the middleware chain. The router creates it; middleware may read it, set
 * `data`, and settle it early (`retryLater`, `deadLetter`). Whatever is not settled when the chain resolves
 * is acked.
 */
export interface MessageContext {
  /** What the transport delivered, read-only: settle through `retryLater` and `deadLetter` (once). */
  readonly delivery: DeliveryView;
  readonly group: string;
  /** The decoded CloudEvent (data not yet validated). */
  readonly event: CloudEvent;
  /** The definition registered for `event.type` in this router, if any. */
  readonly definition: EventDefinition | undefined;
  /** The validated data, set by the validation middleware. */
  data: unknown;
  /** Calls of the handler in this delivery so far (immediate retries count). */
  tries: number;
  /**
   * Aborted when the router shuts down past its timeout, or when the transport lost the delivery's lease (reason
   * `HERALD_LEASE_LOST`: the event is redelivered and this delivery is not settled): long handlers should stop.
   */
  readonly signal: AbortSignal;
  /** Publishes with causation and correlation taken from `event`. */
  readonly publish: Publisher['publish'];
  /** True once the delivery was settled by middleware. */
  readonly settled: boolean;
  /** Settles: redeliver to this group after `delayMs`. */
  retryLater(delayMs: number, error: ErrorInfo): Promise<void>;
  /** Settles: move to this group's dead-letter queue. */
  deadLetter(failure: DeadLetterFailure): Promise<void>;
}

/** Handles one message context; rejects when handling failed. */
export type MessageHandler = (context: MessageContext) => Promise<void>;

/** Wraps a handler: `(next) => (context) => ...`. Each feature is one middleware. */
export type Middleware = ((next: MessageHandler) => MessageHandler) & {
  /** A short description for `router.describe()`. */
  readonly describe?: string;
};

/**
 * Calls `next`, a synchronous throw (from a handler that is not an async function) becoming a rejection. For
 * middleware that chains on the promise instead of being an async function itself: one promise fewer per layer
 * and per delivery.
 */
export function callNext(next: MessageHandler, context: MessageContext): Promise<void> {
  try {
    return next(context);
  } catch (error) {
    return rejection(error);
  }
}

/** Composes middleware, outermost first, around `handler`. */
export function compose(middleware: readonly Middleware[], handler: MessageHandler): MessageHandler {
  return middleware.reduceRight<MessageHandler>((next, mw) => mw(next), handler);
}

/** Attaches a description to a middleware for `router.describe()`. */
export function named(describe: string, mw: (next: MessageHandler) => MessageHandler): Middleware {
  return Object.assign(mw, { describe });
}
