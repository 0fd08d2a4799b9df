import type { DeadLetterFailure, TransportRecord } from '@herald/core';

/**
 * How a CloudEvent travels as an SNS/SQS message. CloudEvents has no SNS or SQS protocol binding (the
 * specification keeps proprietary protocols out, and a proposed SNS binding, cloudevents/spec#499, was closed),
 * so Herald follows the Kafka binding's binary mode, the closest one, within SQS's limit of 10 message
 * attributes per message:
 *
 * - the body is the event's `data`, as UTF-8 text when it is valid text for SQS, otherwise base64;
 * - `datacontenttype` is the `content-type` attribute (as in the Kafka binding);
 * - `specversion`, `id`, `source`, `type`, `time` and `subject` are one `ce_<name>` String attribute each, so
 *   SNS subscription filter policies and plain consumers can use them;
 * - every other context attribute (`dataschema`, the partitioning, tracing, correlation and causation
 *   extensions, any other extension), and any value SQS cannot carry as an attribute (empty, or with characters
 *   SQS refuses), goes into one String attribute `ce_attributes.json`: a JSON object of names to strings. Its
 *   name holds a `.`, which no CloudEvents attribute name can, so it never collides with `ce_<name>`;
 * - Herald's own metadata (the topic, a key that differs from `partitionkey`, how the body is encoded, and on a
 *   dead letter its failure) is one String attribute `herald` holding JSON.
 *
 * That is at most 9 attributes, leaving one for an application or a tracing library. Readers also accept
 * `ce-<name>` (the HTTP binding's spelling) from foreign producers.
 */
export const CE_PREFIX = 'ce_';
const CE_PREFIX_HTTP = 'ce-';
export const CONTENT_TYPE_ATTRIBUTE = 'content-type';
export const PACKED_ATTRIBUTE = 'ce_attributes.json';
export const HERALD_ATTRIBUTE = 'herald';

/** SQS accepts at most this many message attributes; SNS drops a raw delivery that carries more. */
export const MAX_MESSAGE_ATTRIBUTES = 10;
/** Context attributes that travel as their own `ce_<name>` attribute when SQS can carry their value. */
export const INDIVIDUAL_ATTRIBUTES: readonly string[] = [
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
];

/** A String message attribute, in the shape both the SNS and the SQS clients take and return. */
export interface StringAttribute {
  DataType: string | undefined;
  StringValue?: string | undefined;
  BinaryValue?: Uint8Array | undefined;
}

/** Herald's metadata on a message (the `herald` attribute). */
export interface HeraldMeta {
  /** The Herald topic the record was published to. */
  topic?: string;
  /** The record's key, when it is not the `partitionkey` attribute (a record published raw). */
  key?: string;
  /** How the body encodes `data`: absent for UTF-8 text. */
  body?: 'base64' | 'empty';
  /** Set on a dead letter. */
  deadLetter?: DeadLetterMeta;
}

/** Where a dead letter came from and why, stored with it. */
export interface DeadLetterMeta {
  readonly id: string;
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly failure: DeadLetterFailure;
  readonly at: string;
}

/** A record as an SNS or SQS message. */
export interface EncodedMessage {
  readonly body: string;
  readonly attributes: Record<string, StringAttribute>;
}

/** Characters SQS accepts in bodies and attribute values: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. */
const INVALID_CHAR = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
const INVALID_CHARS = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

/** Whether SQS can carry `text` as a body or attribute value (it refuses empty values and some characters). */
export function isSqsText(text: string): boolean {
  return text !== '' && !INVALID_CHAR.test(text);
}

/** JSON text with every character SQS refuses written as a `\u` escape (JSON.stringify leaves U+FFFE, U+FFFF). */
export function sqsSafeJson(value: unknown): string {
  // What is refused is always one UTF-16 unit (astral characters are allowed), so one escape each.
  return JSON.stringify(value).replace(
    INVALID_CHARS,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body carrying `data`, and how it is encoded (absent: UTF-8 text). */
export function encodeBody(data: Uint8Array): { body: string; encoding?: 'base64' | 'empty' } {
  if (data.length === 0) return { body: '-', encoding: 'empty' };
  try {
    const text = decoder.decode(data);
    if (isSqsText(text)) return { body: text };
  } catch {
    // Not UTF-8: base64 below.
  }
  return {
    body: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
    encoding: 'base64',
  };
}

function string(value: string): StringAttribute {
  return { DataType: 'String', StringValue: value };
}

/** The `herald` attribute's value. */
export function heraldAttribute(meta: HeraldMeta): StringAttribute {
  return string(sqsSafeJson(meta));
}

/** Maps a record onto an SNS/SQS message as described in this module's documentation. */
export function encodeRecord(record: TransportRecord, data: Uint8Array = record.data): EncodedMessage {
  const attributes: Record<string, StringAttribute> = {};
  const packed: Record<string, string> = {};
  let hasPacked = false;
  for (const [name, value] of Object.entries(record.attributes)) {
    if (name === 'datacontenttype' && isSqsText(value)) attributes[CONTENT_TYPE_ATTRIBUTE] = string(value);
    else if (INDIVIDUAL_ATTRIBUTES.includes(name) && isSqsText(value))
      attributes[CE_PREFIX + name] = string(value);
    else {
      packed[name] = value;
      hasPacked = true;
    }
  }
  if (hasPacked) attributes[PACKED_ATTRIBUTE] = string(sqsSafeJson(packed));
  const { body, encoding } = encodeBody(data);
  const meta: HeraldMeta = { topic: record.topic };
  if (record.key !== undefined && record.key !== record.attributes.partitionkey) meta.key = record.key;
  if (encoding !== undefined) meta.body = encoding;
  attributes[HERALD_ATTRIBUTE] = heraldAttribute(meta);
  return { body, attributes };
}

/** The text of an attribute of any data type (`Binary` as base64). */
function attributeText(value: StringAttribute): string | undefined {
  if (value.StringValue !== undefined) return value.StringValue;
  if (value.BinaryValue !== undefined) return Buffer.from(value.BinaryValue).toString('base64');
  return undefined;
}

/** Reads the `herald` attribute; `undefined` when absent or not Herald's JSON. */
export function readMeta(
  attributes: Readonly<Record<string, StringAttribute>> | undefined,
): HeraldMeta | undefined {
  const text = attributes?.[HERALD_ATTRIBUTE]?.StringValue;
  if (text === undefined) return undefined;
  try {
    const meta = JSON.parse(text) as unknown;
    return typeof meta === 'object' && meta !== null && !Array.isArray(meta) ? meta : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the CloudEvents attributes of a message. Lenient: a malformed `ce_attributes.json` is skipped, and the
 * router's codec then reports what is missing (the record is dead-lettered with reason `decode`).
 */
export function readCloudEventAttributes(
  attributes: Readonly<Record<string, StringAttribute>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (attributes === undefined) return out;
  const packedText = attributes[PACKED_ATTRIBUTE]?.StringValue;
  if (packedText !== undefined) {
    try {
      const packed = JSON.parse(packedText) as unknown;
      if (typeof packed === 'object' && packed !== null) {
        for (const [name, value] of Object.entries(packed as Record<string, unknown>)) {
          if (typeof value === 'string') out[name] = value;
        }
      }
    } catch {
      // Skipped (see above).
    }
  }
  for (const [name, value] of Object.entries(attributes)) {
    let attribute: string | undefined;
    if (name === CONTENT_TYPE_ATTRIBUTE) attribute = 'datacontenttype';
    else if (name.startsWith(CE_PREFIX) || name.startsWith(CE_PREFIX_HTTP)) {
      const rest = name.slice(CE_PREFIX.length);
      if (/^[a-z0-9]+$/.test(rest)) attribute = rest;
    }
    if (attribute === undefined) continue;
    const text = attributeText(value);
    if (text !== undefined) out[attribute] = text;
  }
  return out;
}

/** Decodes a message body into the record's data, as its `herald` metadata says it was encoded. */
export function decodeBody(body: string | undefined, meta: HeraldMeta | undefined): Uint8Array {
  if (meta?.body === 'empty') return new Uint8Array(0);
  if (meta?.body === 'base64') return Buffer.from(body ?? '', 'base64');
  return Buffer.from(body ?? '', 'utf8');
}

/** An SQS message, as far as the binding reads it. */
export interface ReceivedMessage {
  readonly Body?: string | undefined;
  readonly MessageAttributes?: Record<string, StringAttribute> | undefined;
  readonly Attributes?: Partial<Record<string, string>> | undefined;
}

/**
 * Maps a received message back onto a record of `topic`. The key is the `herald` metadata's, else the
 * `partitionkey` attribute; a message that did not come from Herald (no metadata) on a FIFO queue takes its
 * `MessageGroupId` as key, so a plain FIFO producer's order is kept too.
 */
export function decodeMessage(topic: string, message: ReceivedMessage): TransportRecord {
  const meta = readMeta(message.MessageAttributes);
  const attributes = readCloudEventAttributes(message.MessageAttributes);
  const key =
    meta?.key ??
    attributes.partitionkey ??
    (meta === undefined ? message.Attributes?.MessageGroupId : undefined);
  return { topic, key, attributes, data: decodeBody(message.Body, meta) };
}

/** The size SNS and SQS count for a message: the body and every attribute's name, type and value, in bytes. */
export function messageSize(message: EncodedMessage): number {
  let size = Buffer.byteLength(message.body, 'utf8');
  for (const [name, value] of Object.entries(message.attributes)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    if (value.StringValue !== undefined) size += Buffer.byteLength(value.StringValue, 'utf8');
    if (value.BinaryValue !== undefined) size += value.BinaryValue.byteLength;
  }
  return size;
}
