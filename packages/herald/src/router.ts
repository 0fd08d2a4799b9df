import { batchingHandler, type BatchHandler, type BatchOptions } from './batch-handler.ts';
import { runHandling } from './causation.ts';
import { configError, deadLetterReason, describeError, ErrorCodes, HeraldError } from './errors.ts';
import type { EventData, EventDefinition } from './event-definition.ts';
import { checkName } from './names.ts';
import type { CloudEvent } from './message.ts';
import { compose, type MessageContext, type MessageHandler, type Middleware } from './middleware.ts';
import { consoleHeraldLogger, type HeraldLogger } from './logger.ts';
import { cloudEventsCodec, type Codec } from './codec.ts';
import { checkSource, createPublisher, type Publisher } from './publisher.ts';
import { HandlerSignals } from './handler-signals.ts';
import { safely } from './safely.ts';
import type { DeadLetterFailure, Delivery, DeliveryView, Subscription, Transport } from './transport.ts';
import { rejection } from './rejection.ts';
import { DeliveryContext } from './delivery-context.ts';

/** What a handler receives besides the event. */
export interface HandlerContext {
  readonly group: string;
  /** The delivery attempt (1 on first delivery). */
  readonly attempt: number;
  /** What the transport delivered, read-only: the router settles it (handlers resolve or throw). */
  readonly delivery: DeliveryView;
  /**
   * Aborted when the router shuts down past its timeout, and when the transport lost this delivery's lease
   * (reason: a `HERALD_LEASE_LOST` error; the event is redelivered, and the router will not settle this one).
   * Pass it on to long work (`fetch`, database calls) so it stops when its outcome no longer counts.
   */
  readonly signal: AbortSignal;
  /** Publishes with causation and correlation taken from the event being handled. */
  readonly publish: Publisher['publish'];
}

/** Handles one typed event. Resolve to ack; throw to fail (retry, redeliver, then dead-letter). */
export type Handler<D extends EventDefinition> = (
  event: CloudEvent<EventData<D>>,
  context: HandlerContext,
) => Promise<void> | void;

/** The labels of what {@link RouterOutcomes} reports (the shape of the messaging metrics' labels). */
export interface OutcomeLabels {
  readonly topic: string;
  /** The CloudEvents `type`, or `unknown` for a record that could not be decoded. */
  readonly type: string;
  readonly group: string;
}

/** What a router reports about deliveries it settles itself, whatever its pipeline (for metrics). */
export interface RouterOutcomes {
  /** A delivery was stored in the group's dead-letter queue for `reason` (decode failures included). */
  deadLettered?(labels: OutcomeLabels, reason: string): void;
  /** A delivery was acked without being handled, for `reason` (`unknown-type`). */
  skipped?(labels: OutcomeLabels, reason: string): void;
}

/**
 * Options of {@link createPipelineRouter}: a router on an explicit middleware chain. Most code calls
 * `createRouter`, which builds the chain with `defaultPipeline()`.
 */
export interface PipelineRouterOptions {
  readonly transport: Transport;
  /** The consumer group: the service's name. Every group gets every event; instances of one group share them. */
  readonly group: string;
  /** CloudEvents `source` of events published by handlers (`context.publish`). */
  readonly source: string;
  /** Publisher for `context.publish`; defaults to one on `transport`. */
  readonly publisher?: Publisher;
  /** Deliveries handled at once across keys. Default 16. */
  readonly concurrency?: number;
  /**
   * The whole middleware chain, outermost first, between decoding and the handler. It must settle failures (the
   * router redelivers an error that escapes it after 1 s rather than lose the event).
   */
  readonly pipeline: readonly Middleware[];
  /** Where a new group starts. Default `earliest`. */
  readonly startFrom?: 'earliest' | 'latest';
  /** Reads records into events. Default {@link cloudEventsCodec}; `plainJsonCodec()` also reads plain JSON. */
  readonly codec?: Codec;
  /** How long `close` waits for in-flight handlers. Default 10 s. */
  readonly shutdownTimeoutMs?: number;
  /** Called with errors the router cannot hand to a delivery (a failed ack). Default: `console.error`. */
  readonly onError?: (error: unknown) => void;
  /**
   * Where the router logs each dead letter (`error`) and the first skipped event of each type it has no handler
   * for (`warn`), with the event's id, type, group, topic, partition, offset and reason, never its data. A pino
   * logger fits as is. Default: `console` (a dead letter is never silent); `silentHeraldLogger` drops them.
   */
  readonly logger?: HeraldLogger;
  /** Told of every dead letter and skipped event (`createRouter` reports them to the messaging metrics). */
  readonly outcomes?: RouterOutcomes;
}

/** The {@link HandlerContext} of one handler call: reads through to the delivery's context (its `signal` lazily). */
class DeliveryHandlerContext implements HandlerContext {
  readonly group: string;
  readonly attempt: number;
  readonly delivery: DeliveryView;
  readonly publish: Publisher['publish'];
  readonly #context: MessageContext;

  constructor(context: MessageContext) {
    this.group = context.group;
    this.attempt = context.delivery.attempt;
    this.delivery = context.delivery;
    this.publish = context.publish;
    this.#context = context;
  }

  get signal(): AbortSignal {
    return this.#context.signal;
  }
}

/** Distinct skipped types remembered per router to log each once; past it the memory starts over. */
const MAX_REMEMBERED_SKIPPED_TYPES = 1000;

/** A router's self-description, for tools and logs. */
export interface RouterDescription {
  readonly group: string;
  readonly transport: string;
  readonly topics: readonly string[];
  readonly handlers: readonly { type: string; topic: string }[];
  readonly pipeline: readonly string[];
  readonly concurrency: number;
}

/**
 * Subscribes a group to the topics of its handlers, runs each delivery through the middleware chain, and acks
 * when the chain resolves. Handlers never touch acks. Events of types with no handler are acked and skipped.
 * Every dead letter (decode failures included) and every skipped event is counted in the registered messaging
 * metrics and logged to `logger`, without its data.
 */
export interface Router {
  /** Registers the handler of one event type. Call before `start`. */
  on<D extends EventDefinition>(definition: D, handler: Handler<D>): Router;
  /**
   * Registers a batch handler for one event type (see {@link batchingHandler}): events are handed over in
   * batches of up to `maxSize` (at most the router's concurrency), after at most `maxWaitMs`, and each is
   * settled on its own (the handler returns the ids that failed). Throws `HERALD_CONFIG` on a bad option.
   */
  onBatch<D extends EventDefinition>(definition: D, handler: BatchHandler<D>, options?: BatchOptions): Router;
  /** Subscribes; resolves once receiving. */
  start(): Promise<void>;
  /** Stops receiving, waits for in-flight handlers (up to the shutdown timeout), then aborts them. */
  close(): Promise<void>;
  describe(): RouterDescription;
}

/**
 * Creates a {@link Router} on `options.pipeline`, with no feature of its own: no retry, dead letter or telemetry
 * unless the pipeline has them. Options are checked at once; a bad one throws `HERALD_CONFIG`.
 */
export function createPipelineRouter(options: PipelineRouterOptions): Router {
  const { transport, group } = options;
  checkName('group', group);
  checkSource(options.source);
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw configError('concurrency', 'an integer >= 1', concurrency);
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  if (!(shutdownTimeoutMs >= 0)) throw configError('shutdownTimeoutMs', 'a number >= 0', shutdownTimeoutMs);
  const onError = options.onError ?? ((error: unknown) => console.error('[herald] router', group, error));
  const logger = options.logger ?? consoleHeraldLogger(`router ${group}`);
  const skippedTypes = new Set<string>();
  const { pipeline } = options;
  const given: unknown = pipeline;
  if (!Array.isArray(given)) throw configError('pipeline', 'an array of middleware', given);
  const outcomes = options.outcomes ?? {};
  const codec = options.codec ?? cloudEventsCodec;
  const publisher = options.publisher ?? createPublisher({ transport, source: options.source });
  const handlers = new Map<string, { definition: EventDefinition; handler: Handler<EventDefinition> }>();
  const abort = new AbortController();
  const signals = new HandlerSignals(abort.signal);
  let subscription: Subscription | undefined;
  let closed = false;

  // Not an async function: a handler that returns nothing (or its own promise) adds no promise here.
  const dispatch: MessageHandler = (context) => {
    const entry = handlers.get(context.event.type);
    if (entry === undefined) return Promise.resolve();
    const event = { ...context.event, data: context.data } as CloudEvent;
    try {
      const done = entry.handler(event, new DeliveryHandlerContext(context));
      return done instanceof Promise ? done : Promise.resolve(done);
    } catch (error) {
      return rejection(error);
    }
  };
  const chain = compose(pipeline, dispatch);

  // What identifies a delivery in logs: never its data (it may hold personal data or secrets).
  const logFields = (delivery: DeliveryView, type: string | undefined): Record<string, unknown> => ({
    event_id: delivery.record.attributes.id,
    event_type: type,
    group,
    topic: delivery.record.topic,
    partition: delivery.partition,
    offset: delivery.offset,
    attempt: delivery.attempt,
  });
  const labelsOf = (delivery: DeliveryView, type: string | undefined): OutcomeLabels => ({
    topic: delivery.record.topic,
    type: type ?? 'unknown',
    group,
  });

  /** Dead-letters the delivery, then counts and logs it (only once it is stored). */
  async function sendToDeadLetters(
    delivery: Delivery,
    type: string | undefined,
    failure: DeadLetterFailure,
  ): Promise<void> {
    await delivery.deadLetter(failure);
    safely(() => outcomes.deadLettered?.(labelsOf(delivery, type), failure.reason));
    safely(() =>
      logger.error(
        {
          ...logFields(delivery, type),
          reason: failure.reason,
          attempts: failure.attempts,
          error: { name: failure.error.name, code: failure.error.code, message: failure.error.message },
        },
        'event dead-lettered',
      ),
    );
  }

  /** Acks an event no handler is registered for; counts each, logs the first of each type. */
  async function skip(delivery: Delivery, type: string): Promise<void> {
    await delivery.ack();
    safely(() => outcomes.skipped?.(labelsOf(delivery, type), 'unknown-type'));
    const seen = `${delivery.record.topic}\u0000${type}`;
    if (skippedTypes.has(seen)) return;
    if (skippedTypes.size >= MAX_REMEMBERED_SKIPPED_TYPES) skippedTypes.clear();
    skippedTypes.add(seen);
    safely(() =>
      logger.warn(
        { ...logFields(delivery, type), reason: 'unknown-type' },
        'event skipped: no handler for its type (logged once per type; all are counted)',
      ),
    );
  }

  async function onDelivery(delivery: Delivery): Promise<void> {
    let event: CloudEvent;
    try {
      event = codec.decode(delivery);
    } catch (error) {
      // Not an event at all: no middleware can help, it goes to the dead-letter queue with the reason.
      await sendToDeadLetters(delivery, delivery.record.attributes.type, {
        error: describeError(error),
        attempts: delivery.attempt,
        reason: deadLetterReason(error),
      });
      return;
    }
    const context = new DeliveryContext(delivery, event, handlers.get(event.type)?.definition, {
      group,
      signals,
      publish: (definition, data, publishOptions) =>
        runHandling(event, () => publisher.publish(definition, data, publishOptions)),
      deadLetter: (failure) => sendToDeadLetters(delivery, event.type, failure),
    });
    if (context.definition === undefined) {
      await skip(delivery, event.type);
      return;
    }
    try {
      await runHandling(event, () => chain(context));
    } catch (error) {
      if (context.settled) {
        onError(error);
        return;
      }
      // Only reached with a custom pipeline that lets errors escape: redeliver rather than lose the event.
      await context.settle(() => delivery.retryLater(1000, describeError(error)));
      return;
    } finally {
      context.release();
    }
    if (!context.settled) await context.settle(() => delivery.ack());
  }

  const router: Router = {
    on(definition, handler) {
      if (subscription !== undefined)
        throw configError('on', 'handlers registered before start()', definition.type);
      if (handlers.has(definition.type))
        throw configError('on', 'one handler per event type', definition.type);
      handlers.set(definition.type, { definition, handler: handler as Handler<EventDefinition> });
      return router;
    },
    onBatch(definition, handler, batchOptions = {}) {
      return router.on(definition, batchingHandler(definition.type, handler, batchOptions, concurrency));
    },
    async start() {
      if (closed) throw new HeraldError(ErrorCodes.CLOSED, `Router "${group}" is closed`);
      if (subscription !== undefined) return;
      if (handlers.size === 0) throw configError('handlers', 'at least one handler (router.on)', 0);
      subscription = transport.subscribe(
        {
          group,
          topics: router.describe().topics,
          concurrency,
          ...(options.startFrom === undefined ? {} : { startFrom: options.startFrom }),
        },
        async (delivery) => {
          try {
            await onDelivery(delivery);
          } catch (error) {
            onError(error);
          }
        },
      );
      await subscription.ready;
    },
    async close() {
      if (closed) return;
      closed = true;
      const timer = setTimeout(() => {
        abort.abort(new HeraldError(ErrorCodes.CLOSED, `Router "${group}" shut down`));
      }, shutdownTimeoutMs);
      try {
        await subscription?.close({ timeoutMs: shutdownTimeoutMs });
      } finally {
        clearTimeout(timer);
      }
    },
    describe() {
      const list = [...handlers.values()].map(({ definition }) => ({
        type: definition.type,
        topic: definition.topic,
      }));
      return {
        group,
        transport: transport.name,
        topics: [...new Set(list.map((h) => h.topic))],
        handlers: list,
        pipeline: pipeline.map((mw) => mw.describe ?? (mw.name || 'middleware')),
        concurrency,
      };
    },
  };
  return router;
}
