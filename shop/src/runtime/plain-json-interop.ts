import {
  decodeRecord,
  ErrorCodes,
  HeraldError,
  plainJsonCodec,
  type Codec,
  type RouterOptions,
} from '@herald/core';

/**
 * The CloudEvents `source` prefix of events read from plain JSON (`plainJsonCodec` names them
 * `/plain/<topic>`): nothing in such a record says who wrote it.
 */
export const PLAIN_SOURCE_PREFIX = '/plain/';

/** The option every shop service takes to read plain JSON from clients outside Herald. */
export interface PlainJsonInterop {
  /**
   * Read plain `{"event": …, "data": …}` JSON records as events (`plainJsonCodec`) and act on a plain
   * `OrderPlaced`. Such a record carries no id or source, so anyone who can write the topic can place an order
   * this way: off by default (`HERALD_ACCEPT_PLAIN_JSON=1` turns it on in `npm start`). Off, a record without
   * CloudEvents attributes is dead-lettered (`reason="decode"`) with an error saying how to turn it on.
   */
  readonly acceptPlainJson?: boolean;
}

/**
 * The codec of a shop service: `plainJsonCodec()` when `acceptPlainJson`, else CloudEvents only, where a record
 * without CloudEvents attributes fails decoding permanently (`HERALD_DECODE`: dead-lettered, never acked
 * silently) with an error naming `HERALD_ACCEPT_PLAIN_JSON`.
 */
export function interopCodec(acceptPlainJson: boolean): Codec {
  if (acceptPlainJson) return plainJsonCodec();
  return {
    name: 'cloudevents-only',
    decode({ record }) {
      const { id, type } = record.attributes;
      if (id === undefined && type === undefined) {
        throw new HeraldError(
          ErrorCodes.DECODE,
          `Record on ${record.topic} is not a CloudEvent (no id or type attribute): plain JSON is read only when ` +
            'the consumer opts in (HERALD_ACCEPT_PLAIN_JSON=1)',
          { permanent: true },
        );
      }
      return decodeRecord(record);
    },
  };
}

/**
 * The router options of a shop service: the caller's, with the codec {@link interopCodec} picks unless they set
 * one.
 */
export function interopRouterOptions(
  options: PlainJsonInterop & {
    readonly router?: Partial<Omit<RouterOptions, 'transport' | 'group' | 'source'>>;
  },
): Partial<Omit<RouterOptions, 'transport' | 'group' | 'source'>> {
  return { codec: interopCodec(options.acceptPlainJson ?? false), ...options.router };
}
