import type { TransportRecord } from '@herald/core';
import { eventAttributes, eventData, keyOf, stampOfData, TOPIC } from '../message.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The event of business transaction `seq`: B1's ~400 B OrderPlaced CloudEvent (16 customer keys), binary mode,
 * its data carrying `seq` so the consumer can match it with the producer's commit time.
 */
export function orderRecord(seq: number): TransportRecord {
  return {
    topic: TOPIC,
    key: keyOf(seq),
    attributes: eventAttributes(seq),
    data: encoder.encode(eventData(seq, 0)),
  };
}

/** The sequence number carried by an {@link orderRecord}. */
export function seqOf(record: TransportRecord): number {
  return stampOfData(decoder.decode(record.data)).seq;
}

/** A record as JSON-safe job payload (graphile-worker stores JSON): the data as base64. */
export interface RecordPayload {
  readonly topic: string;
  readonly key: string | null;
  readonly attributes: Readonly<Record<string, string>>;
  readonly data: string;
}

export function toPayload(record: TransportRecord): RecordPayload {
  return {
    topic: record.topic,
    key: record.key ?? null,
    attributes: record.attributes,
    data: Buffer.from(record.data).toString('base64'),
  };
}

export function fromPayload(payload: RecordPayload): TransportRecord {
  return {
    topic: payload.topic,
    key: payload.key ?? undefined,
    attributes: payload.attributes,
    data: Buffer.from(payload.data, 'base64'),
  };
}
