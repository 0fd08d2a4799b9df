export { kafka, KAFKA_CAPABILITIES } from './kafka-transport.ts';
export type { KafkaTransportOptions } from './kafka-options.ts';
export { resolveKafkaOptions, type ResolvedKafkaOptions } from './kafka-options.ts';
export { decodeKafkaRecord, encodeHeaders, type DecodedKafkaRecord } from './cloudevents-binding.ts';
export { murmur2, partitionForKey } from './partitioner.ts';
export { TopicNames } from './topic-names.ts';
export { kafkaUrl, parseKafkaUrl } from './kafka-url.ts';
