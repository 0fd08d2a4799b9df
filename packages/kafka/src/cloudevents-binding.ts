import type { TransportRecord } from '@herald/core';

/**
 * The CloudEvents Kafka protocol binding (1.0), binary content mode: each context attribute is a `ce_<name>`
 * header, `datacontenttype` is the `content-type` header, the data is the record value as-is, and the partition
 * key is the record key (the `partitionkey` attribute is still sent, as the binding requires of a key mapper).
 * Reading also accepts structured mode (`content-type: application/cloudevents+json`), so events written by any
 * CloudEvents SDK decode. Herald's own bookkeeping (retries, dead letters) travels in `herald-*` headers, which
 * are not attributes.
 */

const CE_PREFIX = 'ce_';
const CONTENT_TYPE = 'content-type';
/** Prefix of Herald's control headers (retry and dead-letter bookkeeping). */
export const CONTROL_PREFIX = 'herald-';

const utf8 = new TextDecoder('utf-8');
const EMPTY = new Uint8Array(0);

/** Headers as the Kafka client takes them: byte keys and values. */
export type KafkaHeaders = Map<Buffer, Buffer>;

/** Maps a record's attributes (and optional Herald control values) to Kafka headers. */
export function encodeHeaders(
  attributes: Readonly<Record<string, string>>,
  control?: Readonly<Record<string, string>>,
): KafkaHeaders {
  const headers: KafkaHeaders = new Map();
  for (const [name, value] of Object.entries(attributes)) {
    const header = name === 'datacontenttype' ? CONTENT_TYPE : CE_PREFIX + name;
    headers.set(Buffer.from(header, 'utf8'), Buffer.from(value, 'utf8'));
  }
  if (control !== undefined) {
    for (const [name, value] of Object.entries(control)) {
      headers.set(Buffer.from(CONTROL_PREFIX + name, 'utf8'), Buffer.from(value, 'utf8'));
    }
  }
  return headers;
}

/** A Kafka record read back: the transport record plus Herald's control values (without their prefix). */
export interface DecodedKafkaRecord {
  readonly record: TransportRecord;
  readonly control: Readonly<Record<string, string>>;
}

type HeaderPair = readonly [Buffer | null | undefined, Buffer | null | undefined];

function isStructured(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const media = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return media === 'application/cloudevents+json';
}

function isJsonMedia(contentType: string): boolean {
  const media = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return media === 'application/json' || media.endsWith('+json') || media === 'text/json';
}

/**
 * Structured mode: the value is a JSON CloudEvent. Attributes become strings; `data` is re-encoded for its
 * content type (JSON text for JSON media types, UTF-8 for strings), `data_base64` decoded. A value that is not
 * a JSON object yields no attributes, so decoding the event fails with a precise `HERALD_DECODE`.
 */
function fromStructured(value: Uint8Array): { attributes: Record<string, string>; data: Uint8Array } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(value));
  } catch {
    return { attributes: { datacontenttype: 'application/cloudevents+json' }, data: value };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { attributes: { datacontenttype: 'application/cloudevents+json' }, data: value };
  }
  const attributes: Record<string, string> = {};
  let data: Uint8Array = EMPTY;
  const event = parsed as Record<string, unknown>;
  for (const [name, attribute] of Object.entries(event)) {
    if (name === 'data' || name === 'data_base64' || attribute === null || attribute === undefined) continue;
    attributes[name] = typeof attribute === 'string' ? attribute : JSON.stringify(attribute);
  }
  if (typeof event.data_base64 === 'string') {
    data = Buffer.from(event.data_base64, 'base64');
  } else if ('data' in event && event.data !== undefined) {
    const contentType = attributes.datacontenttype ?? 'application/json';
    attributes.datacontenttype = contentType;
    data =
      typeof event.data === 'string' && !isJsonMedia(contentType)
        ? Buffer.from(event.data, 'utf8')
        : Buffer.from(JSON.stringify(event.data), 'utf8');
  }
  return { attributes, data };
}

/** Reads a Kafka record (binary or structured mode) into a transport record and Herald's control values. */
export function decodeKafkaRecord(
  topic: string,
  key: Buffer | null | undefined,
  value: Buffer | null | undefined,
  headers: Iterable<HeaderPair>,
): DecodedKafkaRecord {
  let attributes: Record<string, string> = {};
  const control: Record<string, string> = {};
  let contentType: string | undefined;
  for (const [rawName, rawValue] of headers) {
    if (rawName === null || rawName === undefined || rawValue === null || rawValue === undefined) continue;
    const name = utf8.decode(rawName);
    if (name.startsWith(CE_PREFIX)) {
      attributes[name.slice(CE_PREFIX.length)] = utf8.decode(rawValue);
    } else if (name.toLowerCase() === CONTENT_TYPE) {
      contentType = utf8.decode(rawValue);
    } else if (name.startsWith(CONTROL_PREFIX)) {
      control[name.slice(CONTROL_PREFIX.length)] = utf8.decode(rawValue);
    }
  }
  let data: Uint8Array = value ?? EMPTY;
  if (isStructured(contentType)) {
    const structured = fromStructured(data);
    attributes = { ...attributes, ...structured.attributes };
    data = structured.data;
  } else if (contentType !== undefined) {
    attributes.datacontenttype = contentType;
  }
  const recordKey = key === null || key === undefined ? undefined : utf8.decode(key);
  return { record: { topic, key: recordKey, attributes, data }, control };
}
