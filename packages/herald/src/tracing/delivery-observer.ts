import type { ErrorInfo } from '../errors.ts';
import { callNext, named, type MessageContext, type Middleware } from '../middleware.ts';
import { safely } from '../safely.ts';
import type { DeadLetterFailure } from '../transport.ts';

/**
 * What a telemetry middleware learns about one delivery as it travels the chain. The settling calls are seen by
 * any middleware that wraps the failure handling (`tracing()`, `metrics()`); the handler calls only when
 * {@link observeHandler} sits inside `retry` (the router's default pipeline places it there).
 */
export interface DeliveryObserver {
  /** A handler call starts; `tries` is 1 for the first call of this delivery, 2 for the first immediate retry... */
  tryStarted?(tries: number): void;
  /** A handler call ended after `durationMs`; `error` is what it threw, `undefined` on success. */
  tryEnded?(tries: number, durationMs: number, error: unknown): void;
  /** The delivery was handed back for redelivery to this group after `delayMs`. */
  retriedLater?(delayMs: number, error: ErrorInfo): void;
  /** The delivery was moved to the group's dead-letter queue. */
  deadLettered?(failure: DeadLetterFailure): void;
}

const OBSERVERS = Symbol('herald.deliveryObservers');

type Observed = MessageContext & { readonly [OBSERVERS]?: readonly DeliveryObserver[] };

/** The view {@link observeDelivery} returns: a class, so its accessors live on the prototype, not on each view. */
class ObservedContext implements MessageContext {
  readonly [OBSERVERS]: readonly DeliveryObserver[];
  readonly delivery: MessageContext['delivery'];
  readonly group: string;
  readonly event: MessageContext['event'];
  readonly definition: MessageContext['definition'];
  readonly publish: MessageContext['publish'];
  readonly #context: MessageContext;
  readonly #observer: DeliveryObserver;

  constructor(context: MessageContext, observer: DeliveryObserver) {
    const below = (context as Observed)[OBSERVERS];
    this[OBSERVERS] = below === undefined ? [observer] : [...below, observer];
    this.delivery = context.delivery;
    this.group = context.group;
    this.event = context.event;
    this.definition = context.definition;
    this.publish = context.publish;
    this.#context = context;
    this.#observer = observer;
  }

  get data(): unknown {
    return this.#context.data;
  }

  set data(value: unknown) {
    this.#context.data = value;
  }

  get tries(): number {
    return this.#context.tries;
  }

  set tries(value: number) {
    this.#context.tries = value;
  }

  get signal(): AbortSignal {
    return this.#context.signal;
  }

  get settled(): boolean {
    return this.#context.settled;
  }

  async retryLater(delayMs: number, error: ErrorInfo): Promise<void> {
    await this.#context.retryLater(delayMs, error);
    safely(() => this.#observer.retriedLater?.(delayMs, error));
  }

  async deadLetter(failure: DeadLetterFailure): Promise<void> {
    await this.#context.deadLetter(failure);
    safely(() => this.#observer.deadLettered?.(failure));
  }
}

/**
 * Returns a view of `context` that reports to `observer`: pass it to `next`. The view reads and writes through to
 * `context` (`data`, `tries`, `settled` are the same), and its `retryLater` and `deadLetter` notify `observer` once
 * the transport has accepted the settlement. An instance of one class: it sits on the hot path of every delivery.
 */
export function observeDelivery(context: MessageContext, observer: DeliveryObserver): MessageContext {
  return new ObservedContext(context, observer);
}

function notify(observers: readonly DeliveryObserver[], call: (observer: DeliveryObserver) => void): void {
  for (const observer of observers) safely(() => call(observer));
}

/**
 * Reports each handler call to the observers attached by `tracing()` and `metrics()`: when it starts (so an
 * immediate retry is seen with the error that caused it) and how long it took. Place it inside `retry`, where each
 * call passes through it; the router's default pipeline does when telemetry is on. Without observers it only
 * calls `next`.
 */
export function observeHandler(): Middleware {
  return named('observe-handler', (next) => (context) => {
    const observers = (context as Observed)[OBSERVERS];
    if (observers === undefined) return callNext(next, context);
    const tries = Math.max(1, context.tries);
    notify(observers, (o) => o.tryStarted?.(tries));
    const start = performance.now();
    // Chained, not awaited: one promise per handler call rather than an async function's.
    return callNext(next, context).then(
      () => {
        const durationMs = performance.now() - start;
        notify(observers, (o) => o.tryEnded?.(tries, durationMs, undefined));
      },
      (error: unknown) => {
        const durationMs = performance.now() - start;
        notify(observers, (o) => o.tryEnded?.(tries, durationMs, error));
        throw error;
      },
    );
  });
}
