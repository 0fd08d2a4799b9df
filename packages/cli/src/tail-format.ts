import type { TapEvent } from './tap.ts';

/** How much of the data a pretty line shows before cutting it with `…`. */
export const SHORT_DATA_LENGTH = 120;

/**
 * A tapped event as one JSON-serialisable object (what `herald tail --json` prints, one per line): where it was
 * (`topic`, `partition`, `offset`, `key`), the CloudEvents envelope (`id`, `type`, `source`, `time`, `subject`
 * and every carried attribute in `attributes`), and `data` decoded (JSON as JSON, text as a string). Binary data
 * is `dataBase64` instead; a record that is not a valid CloudEvent has `decodeError` and its raw data as text.
 */
export function tapEventJson(tapped: TapEvent): Record<string, unknown> {
  const { event, attributes } = tapped;
  const common = {
    receivedAt: tapped.receivedAt,
    topic: tapped.topic,
    partition: tapped.partition,
    offset: tapped.offset,
    key: tapped.key ?? null,
    id: attributes.id ?? null,
    type: attributes.type ?? null,
    source: attributes.source ?? null,
    time: attributes.time ?? null,
    subject: attributes.subject ?? null,
    attributes,
  };
  if (event === undefined) return { ...common, decodeError: tapped.decodeError };
  if (event.data instanceof Uint8Array) {
    return { ...common, dataBase64: Buffer.from(event.data).toString('base64') };
  }
  return { ...common, data: event.data };
}

/** {@link tapEventJson} as the single line `tail --json` writes (no newline). */
export function formatJsonLine(tapped: TapEvent): string {
  return JSON.stringify(tapEventJson(tapped));
}

/** `text` cut to `max` characters, with `…` when cut. */
export function shorten(text: string, max = SHORT_DATA_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function shortData(tapped: TapEvent): string {
  const { event } = tapped;
  if (event === undefined) return `(not a CloudEvent: ${tapped.decodeError?.message ?? 'undecodable'})`;
  if (event.data instanceof Uint8Array) {
    return `(${event.data.length} bytes of ${event.datacontenttype})`;
  }
  return shorten(typeof event.data === 'string' ? event.data : JSON.stringify(event.data));
}

/**
 * A tapped event as the one line `herald tail` prints: the event's time (as carried, else when received), the
 * topic with `[partition]@offset`, the type, `key=`, `id=`, and the data shortened to {@link SHORT_DATA_LENGTH}.
 */
export function formatPrettyLine(tapped: TapEvent): string {
  const a = tapped.attributes;
  return [
    a.time ?? tapped.receivedAt,
    `${tapped.topic}[${tapped.partition}]@${tapped.offset}`,
    a.type ?? '?',
    `key=${tapped.key ?? '-'}`,
    `id=${a.id ?? '?'}`,
    shortData(tapped),
  ].join('  ');
}
