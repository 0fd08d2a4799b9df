import { context as otelContext, SpanKind, trace, type Link, type SpanContext } from '@opentelemetry/api';
import { encodeEvent } from '../codec.ts';
import { describeError } from '../errors.ts';
import type { CloudEvent } from '../message.ts';
import { messagingMetrics } from '../metrics/messaging-metrics.ts';
import type { PublishOptions } from '../publisher.ts';
import type { PublishReceipt, Transport, TransportRecord } from '../transport.ts';
import { safely } from '../safely.ts';
import { TraceAttributes, messagingSystem } from './semantic-conventions.ts';
import {
  contextWithParent,
  formatTraceparent,
  heraldTracer,
  parseTraceparent,
  producerParent,
  tracingActive,
  type TraceHeaders,
} from './trace-context.ts';
import { recordFailure } from './tracing-middleware.ts';
import { rejection } from '../rejection.ts';

/** What a producer span needs to know of the event it creates or sends. */
type EventFacts = Pick<CloudEvent, 'id' | 'type' | 'correlationid'>;

function eventAttributes(event: EventFacts): Record<string, string> {
  return {
    [TraceAttributes.MESSAGE_ID]: event.id,
    [TraceAttributes.EVENT_TYPE]: event.type,
    ...(event.correlationid === undefined ? {} : { [TraceAttributes.CONVERSATION_ID]: event.correlationid }),
  };
}

/** Counts records acknowledged by a transport, per topic and type. */
function countPublished(records: readonly TransportRecord[]): void {
  const recorder = messagingMetrics();
  if (recorder === undefined) return;
  if (records.length === 1) {
    const record = records[0]!;
    safely(() => recorder.published(record.topic, record.attributes.type ?? 'unknown', 1));
    return;
  }
  const counts = new Map<string, { topic: string; type: string; count: number }>();
  for (const record of records) {
    const type = record.attributes.type ?? 'unknown';
    const key = `${record.topic}\u0000${type}`;
    const entry = counts.get(key);
    if (entry === undefined) counts.set(key, { topic: record.topic, type, count: 1 });
    else entry.count++;
  }
  for (const { topic, type, count } of counts.values()) safely(() => recorder.published(topic, type, count));
}

/**
 * The creation context of an envelope built outside a send (an outbox's `emit`/`add` inside the caller's
 * transaction): a PRODUCER span `create <topic>`, child of the active span (the HTTP request, the handler's
 * "process" span) or of the event being handled, ended at once. Returns its W3C headers for the envelope, or
 * `undefined` when no OpenTelemetry SDK is registered (the envelope then inherits the handled event's context).
 * `buildEvent` calls it for every event that has no explicit `traceparent`.
 */
export function creationContext(topic: string, event: EventFacts): TraceHeaders | undefined {
  if (!tracingActive()) return undefined;
  const span = heraldTracer().startSpan(
    `create ${topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [TraceAttributes.SYSTEM]: messagingSystem(undefined),
        [TraceAttributes.OPERATION_NAME]: 'create',
        [TraceAttributes.OPERATION_TYPE]: 'create',
        [TraceAttributes.DESTINATION]: topic,
        ...eventAttributes(event),
      },
    },
    producerParent(),
  );
  span.end();
  return formatTraceparent(span.spanContext());
}

/**
 * Builds an event with `build` and publishes it on `transport`, the publish-side hook of `createPublisher`. With an
 * OpenTelemetry SDK registered, the publish is a PRODUCER span `send <topic>` whose context is the event's creation
 * context (injected as its `traceparent`), child of the active span or of the event being handled. A
 * `traceparent` given in `options` is the user's creation context: it is kept, and the span (then CLIENT) links to
 * it. Counts the event in the registered messaging metrics once the transport acknowledged it.
 */
export function publishEvent<E extends CloudEvent>(
  transport: Transport,
  topic: string,
  options: PublishOptions | undefined,
  build: (options: PublishOptions | undefined) => E,
): Promise<E> {
  if (tracingActive()) return publishTraced(transport, topic, options, build);
  // Untraced: chained on the transport's promise, no async function of its own.
  try {
    const event = build(options);
    const record = encodeEvent(topic, event);
    return transport.publish([record]).then(() => {
      countPublished([record]);
      return event;
    });
  } catch (error) {
    return rejection(error);
  }
}

/** {@link publishEvent} with an OpenTelemetry SDK registered: the `send` span around the transport's publish. */
async function publishTraced<E extends CloudEvent>(
  transport: Transport,
  topic: string,
  options: PublishOptions | undefined,
  build: (options: PublishOptions | undefined) => E,
): Promise<E> {
  const custom = options?.traceparent !== undefined;
  const customContext = custom ? parseTraceparent(options.traceparent, options.tracestate) : undefined;
  const parent = producerParent();
  const span = heraldTracer().startSpan(
    `send ${topic}`,
    {
      kind: custom ? SpanKind.CLIENT : SpanKind.PRODUCER,
      attributes: {
        [TraceAttributes.SYSTEM]: messagingSystem(transport.name),
        [TraceAttributes.OPERATION_NAME]: 'send',
        [TraceAttributes.OPERATION_TYPE]: 'send',
        [TraceAttributes.DESTINATION]: topic,
      },
      ...(customContext === undefined ? {} : { links: [{ context: customContext }] }),
    },
    parent,
  );
  try {
    const headers = custom ? undefined : formatTraceparent(span.spanContext());
    const event = build(
      headers === undefined
        ? options
        : { ...options, traceparent: headers.traceparent, tracestate: headers.tracestate },
    );
    span.setAttributes(eventAttributes(event));
    const record = encodeEvent(topic, event);
    const [receipt] = await otelContext.with(trace.setSpan(parent, span), () => transport.publish([record]));
    if (receipt !== undefined) span.setAttribute(TraceAttributes.PARTITION, String(receipt.partition));
    countPublished([record]);
    return event;
  } catch (error) {
    recordFailure(span, describeError(error));
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Publishes already-built records on `transport` (an outbox relay's batch), the publish-side hook of the relays:
 * with an OpenTelemetry SDK registered, a CLIENT span `send <topic>` (`send` when the batch spans topics) linking
 * to each record's creation context (the `create` span written with the row, so the request's trace is kept),
 * child of the first record's creation context so a relay adds no trace of its own. Counts the records in the
 * registered messaging metrics once the transport acknowledged them.
 */
export async function sendRecords(
  transport: Transport,
  records: readonly TransportRecord[],
): Promise<PublishReceipt[]> {
  if (records.length === 0) return transport.publish(records);
  if (!tracingActive()) {
    const receipts = await transport.publish(records);
    countPublished(records);
    return receipts;
  }
  const topic = records.every((r) => r.topic === records[0]!.topic) ? records[0]!.topic : undefined;
  const links: Link[] = [];
  let first: SpanContext | undefined;
  for (const record of records) {
    const creation = parseTraceparent(record.attributes.traceparent, record.attributes.tracestate);
    if (creation === undefined) continue;
    first ??= creation;
    const id = record.attributes.id;
    links.push({
      context: creation,
      ...(id === undefined ? {} : { attributes: { [TraceAttributes.MESSAGE_ID]: id } }),
    });
  }
  const parent = contextWithParent(first);
  const span = heraldTracer().startSpan(
    topic === undefined ? 'send' : `send ${topic}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        [TraceAttributes.SYSTEM]: messagingSystem(transport.name),
        [TraceAttributes.OPERATION_NAME]: 'send',
        [TraceAttributes.OPERATION_TYPE]: 'send',
        [TraceAttributes.BATCH_COUNT]: records.length,
        ...(topic === undefined ? {} : { [TraceAttributes.DESTINATION]: topic }),
      },
      links,
    },
    parent,
  );
  try {
    const receipts = await otelContext.with(trace.setSpan(parent, span), () => transport.publish(records));
    countPublished(records);
    return receipts;
  } catch (error) {
    recordFailure(span, describeError(error));
    throw error;
  } finally {
    span.end();
  }
}
