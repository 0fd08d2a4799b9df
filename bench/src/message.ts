import { randomUUID } from 'node:crypto';

/** What every consumer reads back from a message: its sequence number and when its publish call started. */
export interface Stamp {
  readonly seq: number;
  /** {@link nowUs} at the publish call. */
  readonly sentAt: number;
}

/** The topic (subject, queue) every system carries the benchmark events on. */
export const TOPIC = 'orders';

const SOURCE = '/bench/producer';
const TYPE = 'OrderPlaced';
const KEYS = 16;

/** The CloudEvent context attributes (binary mode: strings, no `data`). */
export function eventAttributes(seq: number): Record<string, string> {
  const id = randomUUID();
  return {
    specversion: '1.0',
    id,
    source: SOURCE,
    type: TYPE,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    partitionkey: `customer-${seq % KEYS}`,
    correlationid: id,
  };
}

/** The event data: the stamp plus an order-like body (the whole event comes to about 400 B). */
export function eventDataObject(seq: number, sentAt: number): Stamp & Record<string, unknown> {
  return { seq, sentAt, orderId: `order-${seq}`, items: [{ sku: 'sku-123', quantity: 2, priceCents: 1999 }] };
}

/** The event data as JSON text. */
export function eventData(seq: number, sentAt: number): string {
  return JSON.stringify(eventDataObject(seq, sentAt));
}

/** A structured-mode CloudEvent as an object, for clients that serialise it themselves (BullMQ). */
export function eventObject(seq: number, sentAt: number): StructuredEvent {
  return { ...eventAttributes(seq), data: eventDataObject(seq, sentAt) };
}

/** A CloudEvent in structured mode: attributes and data in one JSON object. */
export interface StructuredEvent {
  readonly [attribute: string]: unknown;
  readonly data: Stamp;
}

/** A CloudEvent in structured mode as JSON text, about 400 bytes. */
export function structuredEvent(seq: number, sentAt: number): string {
  return JSON.stringify(eventObject(seq, sentAt));
}

/** Reads the stamp from a structured-mode event. */
export function stampOfStructured(text: string): Stamp {
  return (JSON.parse(text) as StructuredEvent).data;
}

/** Reads the stamp from event data JSON. */
export function stampOfData(text: string): Stamp {
  return JSON.parse(text) as Stamp;
}

/** The partition key of an event, as {@link eventAttributes} sets it. */
export function keyOf(seq: number): string {
  return `customer-${seq % KEYS}`;
}
