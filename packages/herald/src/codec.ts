import { ErrorCodes, HeraldError } from './errors.ts';
import { KNOWN_ATTRIBUTES, type CloudEvent } from './message.ts';
import type { Delivery, TransportRecord } from './transport.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Media type Herald writes; events with another JSON-ish type still decode as JSON. */
export const JSON_CONTENT_TYPE = 'application/json';

/**
 * Encodes a CloudEvent in binary mode for a topic: context attributes as strings, `data` as JSON bytes.
 * The partition key becomes the record key.
 */
export function encodeEvent(topic: string, event: CloudEvent): TransportRecord {
  const attributes: Record<string, string> = {
    specversion: event.specversion,
    id: event.id,
    source: event.source,
    type: event.type,
    time: event.time,
    datacontenttype: event.datacontenttype,
  };
  if (event.subject !== undefined) attributes.subject = event.subject;
  if (event.dataschema !== undefined) attributes.dataschema = event.dataschema;
  if (event.partitionkey !== undefined) attributes.partitionkey = event.partitionkey;
  if (event.traceparent !== undefined) attributes.traceparent = event.traceparent;
  if (event.tracestate !== undefined) attributes.tracestate = event.tracestate;
  if (event.correlationid !== undefined) attributes.correlationid = event.correlationid;
  if (event.causationid !== undefined) attributes.causationid = event.causationid;
  if (event.extensions !== undefined) {
    for (const [name, value] of Object.entries(event.extensions)) attributes[name] = value;
  }
  return { topic, key: event.partitionkey, attributes, data: encoder.encode(JSON.stringify(event.data)) };
}

function isJson(contentType: string): boolean {
  const media = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return media === 'application/json' || media.endsWith('+json') || media === 'text/json';
}

/**
 * Decodes a record into a CloudEvent. Throws a permanent {@link HeraldError} `HERALD_DECODE` naming what is
 * wrong when required attributes are missing or the data is not valid for its content type.
 */
export function decodeRecord(record: TransportRecord): CloudEvent {
  const a = record.attributes;
  const missing = ['id', 'source', 'type'].filter((name) => !a[name]);
  if (missing.length > 0) {
    throw new HeraldError(
      ErrorCodes.DECODE,
      `Record is missing CloudEvents attribute(s): ${missing.join(', ')}`,
      {
        permanent: true,
        details: { missing },
      },
    );
  }
  if (a.specversion !== undefined && a.specversion !== '1.0') {
    throw new HeraldError(ErrorCodes.DECODE, `Unsupported CloudEvents specversion "${a.specversion}"`, {
      permanent: true,
    });
  }
  const contentType = a.datacontenttype ?? JSON_CONTENT_TYPE;
  let data: unknown;
  if (isJson(contentType)) {
    try {
      data = record.data.length === 0 ? null : JSON.parse(decoder.decode(record.data));
    } catch (cause) {
      throw new HeraldError(ErrorCodes.DECODE, `Event ${a.id} data is not valid JSON`, {
        permanent: true,
        cause,
      });
    }
  } else if (contentType.startsWith('text/')) {
    try {
      data = decoder.decode(record.data);
    } catch (cause) {
      throw new HeraldError(ErrorCodes.DECODE, `Event ${a.id} data is not valid UTF-8`, {
        permanent: true,
        cause,
      });
    }
  } else {
    data = record.data;
  }
  const extensions: Record<string, string> = {};
  let hasExtensions = false;
  for (const [name, value] of Object.entries(a)) {
    if (!KNOWN_ATTRIBUTES.has(name)) {
      extensions[name] = value;
      hasExtensions = true;
    }
  }
  return {
    specversion: '1.0',
    id: a.id!,
    source: a.source!,
    type: a.type!,
    time: a.time ?? new Date(0).toISOString(),
    datacontenttype: contentType,
    data,
    ...(a.subject === undefined ? {} : { subject: a.subject }),
    ...(a.dataschema === undefined ? {} : { dataschema: a.dataschema }),
    ...(a.partitionkey === undefined ? {} : { partitionkey: a.partitionkey }),
    ...(a.traceparent === undefined ? {} : { traceparent: a.traceparent }),
    ...(a.tracestate === undefined ? {} : { tracestate: a.tracestate }),
    ...(a.correlationid === undefined ? {} : { correlationid: a.correlationid }),
    ...(a.causationid === undefined ? {} : { causationid: a.causationid }),
    ...(hasExtensions ? { extensions } : {}),
  };
}

/** Turns a delivered record into a CloudEvent. The router's default is {@link cloudEventsCodec}. */
export interface Codec {
  readonly name: string;
  /** Throws a permanent `HERALD_DECODE` error when the record cannot be read (it is then dead-lettered). */
  decode(delivery: Delivery): CloudEvent;
}

/** Reads CloudEvents in binary mode (what every Herald transport writes). */
export const cloudEventsCodec: Codec = {
  name: 'cloudevents',
  decode: (delivery) => decodeRecord(delivery.record),
};
