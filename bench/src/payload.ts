import type { TransportRecord } from '@herald/core';
import { eventAttributes, keyOf, type Stamp } from './message.ts';

// The B2 and B3 message: a CloudEvent in binary mode whose data is a JSON body padded to an exact size (1 KB for
// Kafka, 256 B for RabbitMQ and NATS). Herald and the raw clients send the same attributes (as each protocol
// binding's headers), the same key and the same body, so the bytes on the wire match.

const PREFIX = '{"seq":';
const PAD = '"pad":"';
const STAMP = /^\{"seq":(\d+),"sentAt":(\d+),/;

/** The event data: `{"seq":…,"sentAt":…,"pad":"xxx…"}`, exactly `bytes` long (longer if the stamp needs it). */
export function paddedData(seq: number, sentAt: number, bytes: number): Buffer {
  const head = `${PREFIX}${seq},"sentAt":${sentAt},${PAD}`;
  const pad = Math.max(0, bytes - head.length - 2);
  return Buffer.from(`${head}${'x'.repeat(pad)}"}`, 'latin1');
}

/**
 * Reads the stamp from the first bytes of the data without parsing the rest: every system's consumer pays the
 * same small cost, whatever the body's size.
 */
export function stampOfPadded(data: Uint8Array): Stamp {
  const head = Buffer.from(data.buffer, data.byteOffset, Math.min(64, data.byteLength)).toString('latin1');
  const match = STAMP.exec(head);
  if (!match) throw new Error(`not a benchmark event: ${head.slice(0, 40)}`);
  return { seq: Number(match[1]), sentAt: Number(match[2]) };
}

/** The event as a Herald transport record. */
export function paddedRecord(topic: string, seq: number, sentAt: number, bytes: number): TransportRecord {
  return { topic, key: keyOf(seq), attributes: eventAttributes(seq), data: paddedData(seq, sentAt, bytes) };
}
