import type { Message, Options } from 'amqplib';
import type { TransportRecord } from '@herald/core';

/**
 * The CloudEvents AMQP protocol binding (1.0.2), binary content mode, on AMQP 0-9-1: `datacontenttype` is the
 * `content-type` property, every other attribute an application property (a header) named `cloudEvents_<name>`.
 * The spec prefers `_` to `:` for JMS 2.0 clients and asks receivers to understand both.
 */
export const CLOUDEVENTS_PREFIX = 'cloudEvents_';
const LEGACY_CLOUDEVENTS_PREFIX = 'cloudEvents:';

/** Herald's own headers; none starts with the CloudEvents prefix. */
export const HeraldHeaders = {
  /** The partition key, when it differs from the `partitionkey` attribute (a record published raw). */
  key: 'herald_key',
  /** The delivery attempt this copy is (after `retryLater`); absent means 1. */
  attempt: 'herald_attempt',
  /** When a copy delayed beyond the longest tier is due, epoch ms: it is delayed again until then. */
  dueAt: 'herald_due_at',
  /** The error that caused the redelivery, for operators looking into a delay queue. */
  retryError: 'herald_retry_error',
  /** Dead letters: the id, the failure (JSON), the group, the origin and when. */
  deadLetterId: 'herald_dead_letter_id',
  failure: 'herald_failure',
  group: 'herald_group',
  topic: 'herald_topic',
  partition: 'herald_partition',
  offset: 'herald_offset',
  deadLetteredAt: 'herald_dead_lettered_at',
} as const;

/** What `channel.publish` takes for one record. */
export interface AmqpPublication {
  readonly content: Buffer;
  readonly options: Options.Publish;
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Maps a record onto an AMQP message in binary mode: persistent, `content-type` from `datacontenttype`, the other
 * attributes as `cloudEvents_*` headers. `message-id`, `type` and `timestamp` are also set from the event, so
 * plain AMQP tools show them.
 */
export function recordToPublication(
  record: TransportRecord,
  extraHeaders: Record<string, unknown> = {},
): AmqpPublication {
  const headers: Record<string, unknown> = {};
  const a = record.attributes;
  for (const [name, value] of Object.entries(a)) {
    if (name !== 'datacontenttype') headers[CLOUDEVENTS_PREFIX + name] = value;
  }
  if (record.key !== undefined && record.key !== a.partitionkey) headers[HeraldHeaders.key] = record.key;
  Object.assign(headers, extraHeaders);
  const options: Options.Publish = { persistent: true, headers };
  if (a.datacontenttype !== undefined) options.contentType = a.datacontenttype;
  if (a.id !== undefined) options.messageId = a.id;
  if (a.type !== undefined) options.type = a.type;
  const time = a.time === undefined ? Number.NaN : Date.parse(a.time);
  if (Number.isFinite(time)) options.timestamp = Math.floor(time / 1000);
  return { content: toBuffer(record.data), options };
}

/** The canonical string form of a header value (the binding allows native AMQP types on the wire). */
export function headerString(name: string, value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'object' && value !== null && (value as { '!'?: unknown })['!'] === 'timestamp') {
    const seconds = Number((value as { value: unknown }).value);
    if (name === 'time' && Number.isFinite(seconds)) return new Date(seconds * 1000).toISOString();
    return String(seconds);
  }
  return undefined;
}

/** Reads the CloudEvents attributes of a message, with either prefix. */
export function messageAttributes(message: Message): Record<string, string> {
  const attributes: Record<string, string> = {};
  const headers = message.properties.headers ?? {};
  for (const [header, value] of Object.entries(headers)) {
    let name: string | undefined;
    if (header.startsWith(CLOUDEVENTS_PREFIX)) name = header.slice(CLOUDEVENTS_PREFIX.length);
    else if (header.startsWith(LEGACY_CLOUDEVENTS_PREFIX))
      name = header.slice(LEGACY_CLOUDEVENTS_PREFIX.length);
    if (name === undefined || name === '' || name === 'datacontenttype') continue;
    const text = headerString(name, value);
    if (text !== undefined) attributes[name] = text;
  }
  const contentType: unknown = message.properties.contentType;
  if (typeof contentType === 'string' && contentType !== '') attributes.datacontenttype = contentType;
  return attributes;
}

/** Reads a string header. */
export function stringHeader(message: Message, name: string): string | undefined {
  return headerString(name, message.properties.headers?.[name]);
}

/** Reads a numeric header. */
export function numberHeader(message: Message, name: string): number | undefined {
  const text = stringHeader(message, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Maps an AMQP message back onto a record of `topic`. */
export function messageToRecord(topic: string, message: Message): TransportRecord {
  const attributes = messageAttributes(message);
  return {
    topic,
    key: stringHeader(message, HeraldHeaders.key) ?? attributes.partitionkey,
    attributes,
    data: message.content,
  };
}

/** The attempt number a message carries (1 when absent or malformed). */
export function attemptOf(message: Message): number {
  const attempt = numberHeader(message, HeraldHeaders.attempt);
  return attempt !== undefined && Number.isInteger(attempt) && attempt >= 1 ? attempt : 1;
}
