import { currentEvent, lineageFrom } from './causation.ts';
import { JSON_CONTENT_TYPE } from './codec.ts';
import { configError } from './errors.ts';
import {
  validateData,
  validateDataEager,
  validateDataSync,
  type EventData,
  type EventDefinition,
  type EventInput,
} from './event-definition.ts';
import { DATA_VERSION_ATTRIBUTE, dataschemaOf, definitionVersion } from './event-version.ts';
import { newEventId, type CloudEvent } from './message.ts';
import {
  DELIVER_AT_ATTRIBUTE,
  deliverAtOf,
  refuseScheduling,
  type ScheduleOptions,
} from './scheduled-delivery.ts';
import { creationContext, publishEvent } from './tracing/producer.ts';
import type { Transport } from './transport.ts';
import { rejection } from './rejection.ts';

/**
 * Per-publish overrides of the envelope, and when the event is due (`deliverAt` or `delay`: the event carries it
 * in its `deliverat` attribute, and is held until then by the outbox relay or by a transport that declares
 * `scheduledDelivery`).
 */
export interface PublishOptions extends ScheduleOptions {
  /** Overrides the definition's partition key. */
  readonly key?: string;
  readonly subject?: string;
  /** Defaults to the handled event's correlation id, or to the new event's own id at the start of a flow. */
  readonly correlationId?: string;
  /** Defaults to the id of the event being handled, if any. */
  readonly causationId?: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
  readonly id?: string;
  readonly time?: Date;
  readonly extensions?: Readonly<Record<string, string>>;
}

/** Publishes typed events. The data is validated against the definition's schema before anything is sent. */
export interface Publisher {
  /** Resolves with the event once the transport acknowledged it (at its durability). */
  publish<D extends EventDefinition>(
    definition: D,
    data: EventInput<D>,
    options?: PublishOptions,
  ): Promise<CloudEvent<EventData<D>>>;
}

/**
 * Builds the envelope of an event whose data is already validated. Its `dataschema` and `dataversion` name the
 * definition's version (see `event-version.ts`). Correlation and causation come from
 * `options`, else from the event being handled in this async context (see `runHandling`), else the event starts
 * a new flow (its correlation id is its own id). Trace context (the CloudEvents `traceparent`/`tracestate`) comes
 * from `options`, else, with an OpenTelemetry SDK registered, from a new `create <topic>` PRODUCER span under the
 * active span (see `creationContext`), else from the event being handled, as is.
 */
export function buildEvent<D extends EventDefinition>(
  source: string,
  definition: D,
  value: EventData<D>,
  options: PublishOptions = {},
): CloudEvent<EventData<D>> {
  const id = options.id ?? newEventId();
  const parent = currentEvent();
  const lineage = parent ? lineageFrom(parent) : undefined;
  const key = options.key ?? definition.key?.(value);
  const subject = options.subject ?? definition.subject?.(value) ?? key;
  const causationid = options.causationId ?? lineage?.causationid;
  const correlationid = options.correlationId ?? lineage?.correlationid ?? id;
  const created =
    options.traceparent === undefined
      ? creationContext(definition.topic, { id, type: definition.type, correlationid })
      : undefined;
  const traceparent = options.traceparent ?? created?.traceparent ?? parent?.traceparent;
  const inheritedState = created === undefined ? parent?.tracestate : created.tracestate;
  const tracestate = options.tracestate ?? (options.traceparent === undefined ? inheritedState : undefined);
  const version = definitionVersion(definition);
  const deliverat = deliverAtOf(options);
  return {
    specversion: '1.0',
    id,
    source,
    type: definition.type,
    time: (options.time ?? new Date()).toISOString(),
    datacontenttype: JSON_CONTENT_TYPE,
    dataschema: dataschemaOf(definition, version),
    data: value,
    correlationid,
    ...(causationid === undefined ? {} : { causationid }),
    ...(key === undefined ? {} : { partitionkey: key }),
    ...(subject === undefined ? {} : { subject }),
    ...(traceparent === undefined ? {} : { traceparent }),
    ...(tracestate === undefined ? {} : { tracestate }),
    extensions: {
      ...options.extensions,
      [DATA_VERSION_ATTRIBUTE]: String(version),
      ...(deliverat === undefined ? {} : { [DELIVER_AT_ATTRIBUTE]: deliverat }),
    },
  };
}

/**
 * Builds a validated CloudEvent (see {@link buildEvent} for the envelope). Throws `HERALD_VALIDATION`
 * (permanent) when the data does not match the schema.
 */
export async function createEvent<D extends EventDefinition>(
  source: string,
  definition: D,
  data: EventInput<D>,
  options: PublishOptions = {},
): Promise<CloudEvent<EventData<D>>> {
  return buildEvent(source, definition, await validateData(definition, data), options);
}

/**
 * {@link createEvent} without awaiting, for synchronous transactions (better-sqlite3). Throws
 * `HERALD_UNSUPPORTED` for a schema that only validates asynchronously.
 */
export function createEventSync<D extends EventDefinition>(
  source: string,
  definition: D,
  data: EventInput<D>,
  options: PublishOptions = {},
): CloudEvent<EventData<D>> {
  return buildEvent(source, definition, validateDataSync(definition, data), options);
}

/** Options of {@link createPublisher}. */
export interface PublisherOptions {
  readonly transport: Transport;
  /** The CloudEvents `source` of every event this publisher creates (e.g. `/shop/order-service`). */
  readonly source: string;
}

/** Checks a CloudEvents source option. */
export function checkSource(source: unknown): asserts source is string {
  if (typeof source !== 'string' || source.length === 0) {
    throw configError('source', 'a non-empty URI reference such as "/shop/order-service"', source);
  }
}

/**
 * A publisher straight to a transport: each `publish` resolves when the transport acknowledged the event. For
 * publishing atomically with a database change, use an outbox instead. An event due later (`deliverAt`, `delay`)
 * needs a transport that declares `scheduledDelivery`; on any other the publish rejects with `HERALD_UNSUPPORTED`
 * before anything is sent (an outbox holds it instead). With an OpenTelemetry SDK registered, each
 * publish is a `send <topic>` PRODUCER span whose context the event carries (see `publishEvent`).
 */
export function createPublisher(options: PublisherOptions): Publisher {
  checkSource(options.source);
  const { transport, source } = options;
  const send = <D extends EventDefinition>(
    definition: D,
    value: EventData<D>,
    publishOptions: PublishOptions | undefined,
  ): Promise<CloudEvent<EventData<D>>> => {
    const due = publishOptions === undefined ? undefined : deliverAtOf(publishOptions);
    if (due !== undefined && !transport.capabilities.scheduledDelivery && Date.parse(due) > Date.now()) {
      throw refuseScheduling(transport, due);
    }
    // A delay counts from here: the event carries the one due time computed now.
    const options: PublishOptions | undefined =
      due === undefined || publishOptions === undefined
        ? publishOptions
        : { ...stripSchedule(publishOptions), deliverAt: new Date(due) };
    return publishEvent(transport, definition.topic, options, (withTrace) =>
      buildEvent(source, definition, value, withTrace),
    );
  };
  return {
    publish(definition, data, publishOptions) {
      try {
        // A synchronous schema (most) goes straight on: no promise until the transport's.
        const value = validateDataEager(definition, data);
        return value instanceof Promise
          ? value.then((v) => send(definition, v, publishOptions))
          : send(definition, value, publishOptions);
      } catch (error) {
        return rejection(error);
      }
    },
  };
}

/** `options` without `deliverAt` and `delay`. */
function stripSchedule(options: PublishOptions): PublishOptions {
  const { deliverAt: _deliverAt, delay: _delay, ...rest } = options;
  return rest;
}
