// The Kafka broker of B2: the single-node KRaft broker of scripts/kafka/broker.sh, on loopback.

export const KAFKA_PORT = 19092;
export const KAFKA_BROKERS = [`127.0.0.1:${KAFKA_PORT}`];
/** Partitions of every B2 topic. */
export const KAFKA_PARTITIONS = 3;
/** Bytes of event data in B2. */
export const KAFKA_PAYLOAD_BYTES = 1024;
