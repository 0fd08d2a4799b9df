import type { ErrorInfo } from '../errors.ts';

/**
 * The OpenTelemetry attribute names Herald sets, from the messaging semantic conventions (the `incubating` entry
 * of `@opentelemetry/semantic-conventions` 1.45) and the stable `error.*`/`exception.*` ones. Spelled out here
 * because the core depends on `@opentelemetry/api` only.
 */
export const TraceAttributes = {
  /** Replaces the deprecated `messaging.system`. */
  SYSTEM: 'messaging.system.name',
  OPERATION_NAME: 'messaging.operation.name',
  OPERATION_TYPE: 'messaging.operation.type',
  DESTINATION: 'messaging.destination.name',
  PARTITION: 'messaging.destination.partition.id',
  CONSUMER_GROUP: 'messaging.consumer.group.name',
  MESSAGE_ID: 'messaging.message.id',
  /** "Sometimes called correlation ID": Herald's `correlationid`. */
  CONVERSATION_ID: 'messaging.message.conversation_id',
  BATCH_COUNT: 'messaging.batch.message_count',
  EVENT_TYPE: 'cloudevents.event_type',
  EVENT_SOURCE: 'cloudevents.event_source',
  EVENT_SUBJECT: 'cloudevents.event_subject',
  ERROR_TYPE: 'error.type',
  EXCEPTION_TYPE: 'exception.type',
  EXCEPTION_MESSAGE: 'exception.message',
  EXCEPTION_STACKTRACE: 'exception.stacktrace',
  /** Herald's own: the delivery attempt of the event to this group (1 on first delivery). */
  DELIVERY_ATTEMPT: 'herald.delivery.attempt',
  /** Herald's own: the handler call within the delivery (immediate retries count). */
  TRY: 'herald.try',
  REDELIVERY_DELAY_MS: 'herald.redelivery.delay_ms',
  DEAD_LETTER_REASON: 'herald.dead_letter.reason',
  DEAD_LETTER_ATTEMPTS: 'herald.dead_letter.attempts',
} as const;

/** Span events Herald adds to a "process" span. */
export const TraceEvents = {
  /** An immediate retry starts; carries the error of the call that failed. */
  RETRY: 'herald.retry',
  /** The event was handed back for a delayed redelivery to this group. */
  REDELIVERY: 'herald.redelivery',
  /** The event was moved to this group's dead-letter queue. */
  DEAD_LETTER: 'herald.dead_letter',
} as const;

/** `messaging.system.name` well-known values for the transports whose broker has one. */
const SYSTEMS: Readonly<Record<string, string>> = {
  kafka: 'kafka',
  rabbitmq: 'rabbitmq',
  nats: 'nats',
  sqs: 'aws.sqs',
  sns: 'aws.sns',
};

/**
 * The `messaging.system.name` of a transport: the well-known value of its broker, else `herald` (the embedded log
 * and the memory transport are Herald's own messaging system, as is an outbox before its relay sends it).
 */
export function messagingSystem(transportName: string | undefined): string {
  return (transportName === undefined ? undefined : SYSTEMS[transportName]) ?? 'herald';
}

/** The low-cardinality `error.type` of an error: its Herald code, else its class name. */
export function errorType(error: ErrorInfo): string {
  return error.code ?? (error.name === '' ? '_OTHER' : error.name);
}
