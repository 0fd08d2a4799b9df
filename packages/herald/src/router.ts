import { runHandling } from './causation.ts';
import { configError, describeError, ErrorCodes, HeraldError, type ErrorInfo } from './errors.ts';
import type { EventData, EventDefinition } from './event-definition.ts';
import { checkName } from './names.ts';
import type { CloudEvent } from './message.ts';
import { compose, type MessageContext, type MessageHandler, type Middleware } from './middleware.ts';
import { deadLetter, deadLetterReason } from './middleware/dead-letter.ts';
import { redelivery, type RedeliveryOptions } from './middleware/redelivery.ts';
import { retry, type RetryOptions } from './middleware/retry.ts';
import { validation } from './middleware/validation.ts';
import { consoleHeraldLogger, type HeraldLogger } from './logger.ts';
import { messagingMetrics, type DeliveryLabels } from './metrics/messaging-metrics.ts';
import { metrics } from './metrics/metrics-middleware.ts';
import { observeHandler, safely } from './tracing/delivery-observer.ts';
import { tracingActive } from './tracing/trace-context.ts';
import { tracing } from './tracing/tracing-middleware.ts';
import { cloudEventsCodec, type Codec } from './codec.ts';
import { checkSource, createPublisher, type Publisher } from './publisher.ts';
import type { DeadLetterFailure, Delivery, Subscription, Transport } from './transport.ts';

/** What a handler receives besides the event. */
export interface HandlerContext {
  readonly group: string;
  /** The delivery attempt (1 on first delivery). */
  readonly attempt: number;
  readonly delivery: Delivery;
  /** Aborted when the router shuts down past its timeout. */
  readonly signal: AbortSignal;
  /** Publishes with causation and correlation taken from the event being handled. */
  readonly publish: Publisher['publish'];
}

/** Handles one typed event. Resolve to ack; throw to fail (retry, redeliver, then dead-letter). */
export type Handler<D extends EventDefinition> = (
  event: CloudEvent<EventData<D>>,
  context: HandlerContext,
) => Promise<void> | void;

/** Options of {@link createRouter}. */
export interface RouterOptions {
  readonly transport: Transport;
  /** The consumer group: the service's name. Every group gets every event; instances of one group share them. */
  readonly group: string;
  /** CloudEvents `source` of events published by handlers (`context.publish`). */
  readonly source: string;
  /** Publisher for `context.publish`; defaults to one on `transport`. */
  readonly publisher?: Publisher;
  /** Deliveries handled at once across keys. Default 16. */
  readonly concurrency?: number;
  /** Immediate retries, or `false` for none. */
  readonly retry?: RetryOptions | false;
  /** Delayed redeliveries, or `false` for none (failures then go straight to the dead-letter queue). */
  readonly redelivery?: RedeliveryOptions | false;
  /** Middleware placed between the failure handling (outside) and validation (inside), outermost first. */
  readonly middleware?: readonly Middleware[];
  /**
   * Traces and counts deliveries: `tracing()` and `metrics()` go first in the default chain (outside the failure
   * handling, so they see redeliveries and dead letters) and `observeHandler()` inside `retry` (so they see each
   * handler call). Default: on if an OpenTelemetry SDK or Herald messaging metrics are registered when the router
   * is created (`setupTelemetry` from `@herald/telemetry` registers both), so a service without them pays nothing.
   */
  readonly telemetry?: boolean;
  /**
   * Replaces the whole default chain (telemetry, dead-letter, redelivery, retry, `middleware`, validation). For
   * tools that need a different order; the router still decodes, dispatches and acks.
   */
  readonly pipeline?: readonly Middleware[];
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
  /** Subscribes; resolves once receiving. */
  start(): Promise<void>;
  /** Stops receiving, waits for in-flight handlers (up to the shutdown timeout), then aborts them. */
  close(): Promise<void>;
  describe(): RouterDescription;
}

/** Creates a {@link Router}. Options are checked at once; a bad one throws `HERALD_CONFIG`. */
export function createRouter(options: RouterOptions): Router {
  const { transport, group } = options;
  checkName('group', group);
  checkSource(options.source);
  const concurrency = options.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw configError('concurrency', 'an integer >= 1', concurrency);
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  if (!(shutdownTimeoutMs >= 0)) throw configError('shutdownTimeoutMs', 'a number >= 0', shutdownTimeoutMs);
  if (!transport.capabilities.deadLetterQueue && options.pipeline === undefined) {
    throw new HeraldError(
      ErrorCodes.UNSUPPORTED,
      `Transport "${transport.name}" has no dead-letter queue; pass a "pipeline" that handles failures`,
    );
  }
  const onError = options.onError ?? ((error: unknown) => console.error('[herald] router', group, error));
  const logger = options.logger ?? consoleHeraldLogger(`router ${group}`);
  const skippedTypes = new Set<string>();
  const telemetry = options.telemetry ?? (tracingActive() || messagingMetrics() !== undefined);
  const pipeline: readonly Middleware[] = options.pipeline ?? [
    ...(telemetry ? [tracing({ transport: transport.name }), metrics()] : []),
    deadLetter(),
    ...(options.redelivery === false ? [] : [redelivery(options.redelivery)]),
    ...(options.retry === false ? [] : [retry(options.retry)]),
    ...(telemetry ? [observeHandler()] : []),
    ...(options.middleware ?? []),
    validation(),
  ];
  const codec = options.codec ?? cloudEventsCodec;
  const publisher = options.publisher ?? createPublisher({ transport, source: options.source });
  const handlers = new Map<string, { definition: EventDefinition; handler: Handler<EventDefinition> }>();
  const abort = new AbortController();
  let subscription: Subscription | undefined;
  let closed = false;

  const dispatch: MessageHandler = async (context) => {
    const entry = handlers.get(context.event.type);
    if (entry === undefined) return;
    const event = { ...context.event, data: context.data } as CloudEvent;
    await entry.handler(event, {
      group,
      attempt: context.delivery.attempt,
      delivery: context.delivery,
      signal: context.signal,
      publish: context.publish,
    });
  };
  const chain = compose(pipeline, dispatch);

  // What identifies a delivery in logs: never its data (it may hold personal data or secrets).
  const logFields = (delivery: Delivery, type: string | undefined): Record<string, unknown> => ({
    event_id: delivery.record.attributes.id,
    event_type: type,
    group,
    topic: delivery.record.topic,
    partition: delivery.partition,
    offset: delivery.offset,
    attempt: delivery.attempt,
  });
  const labelsOf = (delivery: Delivery, type: string | undefined): DeliveryLabels => ({
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
    safely(() => messagingMetrics()?.deadLettered(labelsOf(delivery, type), failure.reason));
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
    safely(() => messagingMetrics()?.skipped(labelsOf(delivery, type), 'unknown-type'));
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
    let settled = false;
    const settle = async (action: () => Promise<void>): Promise<void> => {
      if (settled) throw new HeraldError(ErrorCodes.HANDLER, 'Delivery settled twice');
      settled = true;
      await action();
    };
    const context: MessageContext = {
      delivery,
      group,
      event,
      definition: handlers.get(event.type)?.definition,
      data: event.data,
      tries: 0,
      signal: abort.signal,
      publish: (definition, data, publishOptions) =>
        runHandling(event, () => publisher.publish(definition, data, publishOptions)),
      get settled() {
        return settled;
      },
      retryLater: (delayMs: number, error: ErrorInfo) => settle(() => delivery.retryLater(delayMs, error)),
      deadLetter: (failure: DeadLetterFailure) =>
        settle(() => sendToDeadLetters(delivery, event.type, failure)),
    };
    if (context.definition === undefined) {
      await skip(delivery, event.type);
      return;
    }
    try {
      await runHandling(event, () => chain(context));
    } catch (error) {
      if (settled) {
        onError(error);
        return;
      }
      // Only reached with a custom pipeline that lets errors escape: redeliver rather than lose the event.
      settled = true;
      await delivery.retryLater(1000, describeError(error));
      return;
    }
    if (!settled) await delivery.ack();
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
