/**
 * The CloudEvents NATS protocol binding (v1.0.3). Herald writes binary content mode: every context attribute,
 * extensions included, is a `ce-<name>` header whose value is percent-encoded (space, `"`, `%` and anything outside
 * printable US-ASCII, as UTF-8 bytes), and `data` is the message body. On receipt it also reads structured content
 * mode (`Content-Type: application/cloudevents…`, the JSON event format in the body), which is what a plain NATS
 * client without header support sends.
 */

/** The header holding the partition key when it is not the `partitionkey` attribute (Kafka-style record key). */
export const KEY_HEADER = 'herald-key';

const CE_PREFIX = 'ce-';
const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A value with nothing to escape: printable US-ASCII (0x21–0x7E) but `"` and `%`. Most values are. */
const NOTHING_TO_ESCAPE = /^[!#$&-~]*$/;

/** Percent-encodes a header value as the binding prescribes (upper-case hex). */
export function percentEncode(value: string): string {
  if (NOTHING_TO_ESCAPE.test(value)) return value;
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code > 0x20 && code < 0x7f && char !== '"' && char !== '%') out += char;
    else
      for (const byte of encoder.encode(char)) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Decodes a header value: unescapes a double-quoted string (older producers), then one round of
 * percent-decoding. Throws when the decoded bytes are not valid UTF-8 (the binding requires rejecting them).
 */
export function percentDecode(raw: string): string {
  let value = raw.trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    value = value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  if (!value.includes('%')) return value;
  try {
    // Strict: throws on a `%` not followed by two hex digits and on bytes that are not valid UTF-8 (RFC 3629).
    return decodeURIComponent(value);
  } catch {
    return percentDecodeLenient(value);
  }
}

/** The slow path of {@link percentDecode}: a `%` not followed by two hex digits stays as it is. */
function percentDecodeLenient(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (char === '%' && /^[0-9A-Fa-f]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...encoder.encode(char));
    }
  }
  return strictUtf8.decode(new Uint8Array(bytes));
}

/** A record's attributes and key as header pairs, in binary content mode. */
export function encodeHeaders(
  attributes: Readonly<Record<string, string>>,
  key: string | undefined,
): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(attributes))
    pairs.push([CE_PREFIX + name, percentEncode(value)]);
  if (key !== undefined && key !== attributes.partitionkey) pairs.push([KEY_HEADER, percentEncode(key)]);
  return pairs;
}

/** What a NATS message carries, back as a record's parts. */
export interface DecodedMessage {
  readonly key: string | undefined;
  readonly attributes: Record<string, string>;
  readonly data: Uint8Array;
}

function isStructured(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.trim().toLowerCase().startsWith('application/cloudevents');
}

function isJsonMedia(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const media = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return media === 'application/json' || media.endsWith('+json') || media === 'text/json';
}

/**
 * Reads a structured-mode body (JSON event format). Anything unreadable yields no attributes, so the router
 * dead-letters the record with a decode error instead of losing it.
 */
function decodeStructured(body: Uint8Array): { attributes: Record<string, string>; data: Uint8Array } {
  let event: unknown;
  try {
    event = JSON.parse(strictUtf8.decode(body));
  } catch {
    return { attributes: {}, data: body };
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    return { attributes: {}, data: body };
  const attributes: Record<string, string> = {};
  let data: Uint8Array = new Uint8Array();
  for (const [name, value] of Object.entries(event as Record<string, unknown>)) {
    if (name === 'data' || name === 'data_base64' || value === null || value === undefined) continue;
    attributes[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  const fields = event as { data?: unknown; data_base64?: unknown };
  if (typeof fields.data_base64 === 'string')
    data = new Uint8Array(Buffer.from(fields.data_base64, 'base64'));
  else if (fields.data !== undefined) {
    data =
      typeof fields.data === 'string' && !isJsonMedia(attributes.datacontenttype)
        ? encoder.encode(fields.data)
        : encoder.encode(JSON.stringify(fields.data));
  }
  return { attributes, data };
}

/**
 * Reads a message's headers (name/value pairs, names in any case) and body back into a record's parts. Binary
 * mode unless the `Content-Type` header says structured. A header whose value is not valid percent-encoded UTF-8
 * is dropped (if it was a required attribute, decoding the event then fails with `HERALD_DECODE`).
 */
export function decodeMessage(pairs: Iterable<readonly [string, string]>, body: Uint8Array): DecodedMessage {
  let attributes: Record<string, string> = {};
  let key: string | undefined;
  let contentType: string | undefined;
  for (const [rawName, rawValue] of pairs) {
    const name = rawName.toLowerCase();
    if (name === 'content-type') contentType = rawValue;
    const isAttribute = name.startsWith(CE_PREFIX) && name.length > CE_PREFIX.length;
    // Other headers (`Nats-Msg-Id`, the dead-letter headers...) are not the event's: not decoded here.
    if (!isAttribute && name !== KEY_HEADER) continue;
    let value: string;
    try {
      value = percentDecode(rawValue);
    } catch {
      continue;
    }
    if (isAttribute) attributes[name.slice(3)] = value;
    else key = value;
  }
  let data = body;
  if (isStructured(contentType)) ({ attributes, data } = decodeStructured(body));
  return { key: key ?? attributes.partitionkey, attributes, data };
}
