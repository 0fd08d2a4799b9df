export { nats } from './nats-transport.ts';
export type { NatsTransportOptions, ResolvedNatsOptions } from './nats-options.ts';
export { resolveNatsOptions } from './nats-options.ts';
export {
  decodeMessage,
  encodeHeaders,
  percentDecode,
  percentEncode,
  KEY_HEADER,
} from './cloudevents-binding.ts';
export type { DecodedMessage } from './cloudevents-binding.ts';
export { Names, escapeName } from './names.ts';
export { DeadLetterHeaders } from './dead-letters.ts';
export { natsUrl, parseNatsUrl } from './nats-url.ts';
