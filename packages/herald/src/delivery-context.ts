import type { EventDefinition } from './event-definition.ts';
import { ErrorCodes, HeraldError, type ErrorInfo } from './errors.ts';
import type { HandlerSignals } from './handler-signals.ts';
import type { CloudEvent } from './message.ts';
import type { MessageContext } from './middleware.ts';
import type { Publisher } from './publisher.ts';
import type { DeadLetterFailure, Delivery, DeliveryView } from './transport.ts';

/**
 * The {@link MessageContext} the router makes of each delivery. Middleware and handlers see the delivery, not the
 * means to settle it: `retryLater`, `deadLetter` and the router's own `ack` go through {@link settle}, which settles
 * at most once and, once the transport lost the delivery's lease, not at all (the transport redelivers the event,
 * so settling this copy could only duplicate or lose it). A class: one object per delivery, accessors and methods
 * on the prototype.
 */
export class DeliveryContext implements MessageContext {
  readonly delivery: DeliveryView;
  readonly group: string;
  readonly event: CloudEvent;
  readonly definition: EventDefinition | undefined;
  readonly publish: Publisher['publish'];
  data: unknown;
  tries = 0;
  readonly #raw: Delivery;
  readonly #signals: HandlerSignals;
  readonly #deadLetter: (failure: DeadLetterFailure) => Promise<void>;
  // Made when first read: most handlings never look at their signal.
  #followed: ReturnType<HandlerSignals['follow']> | undefined;
  #settled = false;

  constructor(
    delivery: Delivery,
    event: CloudEvent,
    definition: EventDefinition | undefined,
    services: {
      /** The router's group. */
      readonly group: string;
      readonly signals: HandlerSignals;
      readonly publish: Publisher['publish'];
      /** Stores the dead letter (and counts and logs it). */
      readonly deadLetter: (failure: DeadLetterFailure) => Promise<void>;
    },
  ) {
    this.#raw = delivery;
    this.delivery = Object.freeze({
      record: delivery.record,
      group: delivery.group,
      partition: delivery.partition,
      offset: delivery.offset,
      attempt: delivery.attempt,
      signal: delivery.signal,
    });
    this.group = services.group;
    this.event = event;
    this.definition = definition;
    this.data = event.data;
    this.publish = services.publish;
    this.#signals = services.signals;
    this.#deadLetter = services.deadLetter;
  }

  get signal(): AbortSignal {
    this.#followed ??= this.#signals.follow(this.#raw.signal);
    return this.#followed.signal;
  }

  get settled(): boolean {
    return this.#settled;
  }

  retryLater(delayMs: number, error: ErrorInfo): Promise<void> {
    return this.settle(() => this.#raw.retryLater(delayMs, error));
  }

  deadLetter(failure: DeadLetterFailure): Promise<void> {
    return this.settle(() => this.#deadLetter(failure));
  }

  /** Settles with `action`, once; rejects `HERALD_HANDLER` on a second settle; skips it once the lease is lost. */
  settle(action: () => Promise<void>): Promise<void> {
    if (this.#settled) return Promise.reject(new HeraldError(ErrorCodes.HANDLER, 'Delivery settled twice'));
    this.#settled = true;
    return this.#raw.signal?.aborted === true ? Promise.resolve() : action();
  }

  /** Unlinks the handler's signal from the lease: call once the chain has run. */
  release(): void {
    this.#followed?.release();
  }
}
