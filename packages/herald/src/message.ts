/**
 * A CloudEvents 1.0 event as Herald handles it. The known extensions are typed attributes: `partitionkey`
 * (partitioning extension), `traceparent`/`tracestate` (distributed tracing extension), `correlationid` and
 * `causationid`. Any other extension attribute lives in `extensions`, as a string.
 */
export interface CloudEvent<T = unknown> {
  readonly specversion: '1.0';
  /** Unique per event; Herald generates UUIDv7 (time-ordered). */
  readonly id: string;
  /** The producing service, as a URI reference (e.g. `/shop/order-service`). */
  readonly source: string;
  /** The event type, a fact in the past tense (e.g. `OrderPlaced`). */
  readonly type: string;
  /** What the event is about (e.g. the order id). */
  readonly subject?: string;
  /** When it happened, RFC 3339. */
  readonly time: string;
  readonly datacontenttype: string;
  /** A URI identifying the schema `data` adheres to. */
  readonly dataschema?: string;
  readonly data: T;
  /** The partition key: events with the same key are delivered in publish order. */
  readonly partitionkey?: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** The id shared by every event of one business flow (one order). */
  readonly correlationid?: string;
  /** The id of the event (or request) that caused this one. */
  readonly causationid?: string;
  /** Other extension attributes, all strings. */
  readonly extensions?: Readonly<Record<string, string>>;
}

export { newEventId } from './event-id.ts';

/** The attribute names Herald maps to typed fields of {@link CloudEvent}; everything else is an extension. */
export const KNOWN_ATTRIBUTES: ReadonlySet<string> = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
  'partitionkey',
  'traceparent',
  'tracestate',
  'correlationid',
  'causationid',
]);
