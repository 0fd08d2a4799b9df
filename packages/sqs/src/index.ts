export { sqs, type SqsTransport } from './sqs-transport.ts';
export { resolveOptions, type ResolvedSqsOptions, type SqsTransportOptions } from './sqs-options.ts';
export { parseSqsUrl, SQS_URL_PARAMETERS, sqsUrl } from './sqs-url.ts';
export {
  CE_PREFIX,
  CONTENT_TYPE_ATTRIBUTE,
  decodeMessage,
  encodeRecord,
  HERALD_ATTRIBUTE,
  INDIVIDUAL_ATTRIBUTES,
  MAX_MESSAGE_ATTRIBUTES,
  PACKED_ATTRIBUTE,
  type EncodedMessage,
  type HeraldMeta,
} from './message-binding.ts';
export { escapeName, messageGroupId, Names } from './names.ts';
export { snsDeliveryPolicy } from './topology.ts';
