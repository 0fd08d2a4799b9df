import {
  context as otelContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { describeError, type ErrorInfo } from '../errors.ts';
import { callNext, named, type Middleware } from '../middleware.ts';
import { observeDelivery } from './delivery-observer.ts';
import { TraceAttributes, errorType, messagingSystem, TraceEvents } from './semantic-conventions.ts';
import { contextWithParent, eventSpanContext, heraldTracer, tracingActive } from './trace-context.ts';

/** Options of {@link tracing}. */
export interface TracingOptions {
  /** The transport's name, for `messaging.system.name` (`kafka`, `rabbitmq`...; `herald` otherwise). The router passes it. */
  readonly transport?: string;
  /**
   * Make the event's creation context (its `traceparent`) the parent of the "process" span, so producer and
   * consumers share one trace; the span also links to it either way. `false` starts a new trace per processing,
   * linked to the producer (the conventions' default for batch consumers). Default `true`.
   */
  readonly parentFromMessage?: boolean;
}

/** Records a failure on a span as the conventions ask: status error, `error.type`, the message as description. */
export function recordFailure(span: Span, error: ErrorInfo): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  span.setAttribute(TraceAttributes.ERROR_TYPE, errorType(error));
}

/** The attributes of a span event about an error. */
export function errorAttributes(error: ErrorInfo, withStack = false): Attributes {
  return {
    [TraceAttributes.ERROR_TYPE]: errorType(error),
    [TraceAttributes.EXCEPTION_TYPE]: error.name,
    [TraceAttributes.EXCEPTION_MESSAGE]: error.message,
    ...(withStack && error.stack !== undefined
      ? { [TraceAttributes.EXCEPTION_STACKTRACE]: error.stack }
      : {}),
  };
}

/**
 * Traces each delivery as a CONSUMER span `process <topic>` following the OpenTelemetry messaging conventions:
 * its parent is the creation context the event carries in its CloudEvents `traceparent` (so the trace continues
 * from the producer) and it links to it; it is the active span while the chain runs, so whatever the handler
 * publishes continues the trace. Immediate retries (`herald.retry`), delayed redelivery (`herald.redelivery`) and
 * dead-lettering (`herald.dead_letter`) are span events carrying the error; a delivery that ends redelivered or
 * dead-lettered has status error and `error.type`. Put it first, outside the failure handling, so it sees them; the
 * router's default pipeline does when telemetry is on. Without a registered OpenTelemetry SDK it only calls `next`.
 */
export function tracing(options: TracingOptions = {}): Middleware {
  const system = messagingSystem(options.transport);
  const parentFromMessage = options.parentFromMessage ?? true;
  return named('tracing', (next) => (context) => {
    if (!tracingActive()) return callNext(next, context);
    const { event, delivery } = context;
    const topic = delivery.record.topic;
    const creation = eventSpanContext(event);
    const parent = contextWithParent(parentFromMessage ? creation : undefined);
    // Built by assignment, not spreads: this runs for every delivery.
    const attributes: Attributes = {
      [TraceAttributes.SYSTEM]: system,
      [TraceAttributes.OPERATION_NAME]: 'process',
      [TraceAttributes.OPERATION_TYPE]: 'process',
      [TraceAttributes.DESTINATION]: topic,
      [TraceAttributes.CONSUMER_GROUP]: context.group,
      [TraceAttributes.PARTITION]: String(delivery.partition),
      [TraceAttributes.MESSAGE_ID]: event.id,
      [TraceAttributes.EVENT_TYPE]: event.type,
      [TraceAttributes.EVENT_SOURCE]: event.source,
      [TraceAttributes.DELIVERY_ATTEMPT]: delivery.attempt,
    };
    if (event.correlationid !== undefined) attributes[TraceAttributes.CONVERSATION_ID] = event.correlationid;
    if (event.subject !== undefined) attributes[TraceAttributes.EVENT_SUBJECT] = event.subject;
    const span = heraldTracer().startSpan(
      `process ${topic}`,
      creation === undefined
        ? { kind: SpanKind.CONSUMER, attributes }
        : { kind: SpanKind.CONSUMER, attributes, links: [{ context: creation }] },
      parent,
    );
    let lastError: ErrorInfo | undefined;
    let failure: ErrorInfo | undefined;
    const observed = observeDelivery(context, {
      tryStarted(tries) {
        if (tries > 1) {
          span.addEvent(TraceEvents.RETRY, {
            [TraceAttributes.TRY]: tries,
            ...(lastError === undefined ? {} : errorAttributes(lastError)),
          });
        }
      },
      tryEnded(_tries, _durationMs, error) {
        lastError = error === undefined ? undefined : describeError(error);
      },
      retriedLater(delayMs, error) {
        failure = error;
        span.addEvent(TraceEvents.REDELIVERY, {
          [TraceAttributes.REDELIVERY_DELAY_MS]: delayMs,
          [TraceAttributes.DELIVERY_ATTEMPT]: delivery.attempt + 1,
          ...errorAttributes(error),
        });
      },
      deadLettered(dead) {
        failure = dead.error;
        span.addEvent(TraceEvents.DEAD_LETTER, {
          [TraceAttributes.DEAD_LETTER_REASON]: dead.reason,
          [TraceAttributes.DEAD_LETTER_ATTEMPTS]: dead.attempts,
          ...errorAttributes(dead.error, true),
        });
      },
    });
    const end = (): void => {
      if (failure !== undefined) recordFailure(span, failure);
      span.end();
    };
    // Chained, not awaited: the span ends when the chain settles, with no async function of this layer's own.
    return otelContext
      .with(trace.setSpan(parent, span), () => callNext(next, observed))
      .then(end, (error: unknown) => {
        failure = describeError(error);
        end();
        throw error;
      });
  });
}
