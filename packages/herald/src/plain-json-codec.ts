import { createHash } from 'node:crypto';
import { decodeRecord, JSON_CONTENT_TYPE, type Codec } from './codec.ts';
import { ErrorCodes, HeraldError } from './errors.ts';
import { DATA_VERSION_ATTRIBUTE } from './event-version.ts';

/** Options of {@link plainJsonCodec}. */
export interface PlainJsonCodecOptions {
  /** CloudEvents `source` given to plain events. Default `/plain/<topic>`. */
  readonly source?: string;
  /** The body field that names the event type. Default `event`. */
  readonly typeField?: string;
  /** The body field holding the data. Default `data`. */
  readonly dataField?: string;
  /**
   * The body field naming the data's version (an integer, see `EventDefinition.version`). Default `version`. A
   * body without it is version 1.
   */
  readonly versionField?: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** A stable UUID-shaped id from the record's topic and bytes (SHA-256, version nibble 8: name-based, custom). */
function contentId(topic: string, bytes: Uint8Array): string {
  const hex = createHash('sha256').update(topic).update('\u0000').update(bytes).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Reads events from clients that know nothing of CloudEvents: a JSON body such as
 * `{"event": "OrderPlaced", "data": {...}}` becomes a CloudEvent of type `OrderPlaced` (data version 1, or the
 * body's `"version"`). Records that carry
 * CloudEvents attributes are read as CloudEvents, so one router serves both.
 *
 * A plain event has no id of its own: it gets one derived from its topic and bytes, so a redelivered copy is
 * recognised by the inbox. Two byte-identical plain events on one topic are therefore treated as one event.
 */
export function plainJsonCodec(options: PlainJsonCodecOptions = {}): Codec {
  const typeField = options.typeField ?? 'event';
  const dataField = options.dataField ?? 'data';
  const versionField = options.versionField ?? 'version';
  return {
    name: 'plain-json',
    decode(delivery) {
      const { record } = delivery;
      if (record.attributes.id !== undefined && record.attributes.type !== undefined)
        return decodeRecord(record);
      let body: unknown;
      try {
        body = JSON.parse(decoder.decode(record.data));
      } catch (cause) {
        throw new HeraldError(ErrorCodes.DECODE, `Plain record on ${record.topic} is not JSON`, {
          permanent: true,
          cause,
        });
      }
      const type = (body as Record<string, unknown> | null)?.[typeField];
      if (typeof type !== 'string' || type.length === 0) {
        throw new HeraldError(
          ErrorCodes.DECODE,
          `Plain record on ${record.topic} has no "${typeField}" naming its type`,
          { permanent: true },
        );
      }
      const data = (body as Record<string, unknown>)[dataField];
      const version = (body as Record<string, unknown>)[versionField];
      return {
        specversion: '1.0',
        id: contentId(record.topic, record.data),
        source: options.source ?? `/plain/${record.topic}`,
        type,
        time: new Date().toISOString(),
        datacontenttype: JSON_CONTENT_TYPE,
        data: data ?? null,
        ...(record.key === undefined ? {} : { partitionkey: record.key }),
        // Read by the validation middleware: a value that is not a version dead-letters the event with the reason.
        ...(version === undefined
          ? {}
          : { extensions: { [DATA_VERSION_ATTRIBUTE]: JSON.stringify(version) } }),
      };
    },
  };
}
