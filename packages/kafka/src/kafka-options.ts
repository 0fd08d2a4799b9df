import type { ConnectionOptions } from '@platformatic/kafka';
import { configError } from '@herald/core';

/** Options of {@link kafka}. Every option is checked when the transport is created. */
export interface KafkaTransportOptions {
  /** Bootstrap brokers as `host:port` (use `127.0.0.1`, not `localhost`: Node may try `::1` first). */
  readonly brokers: readonly string[];
  /** Kafka client id prefix; each client appends its role. Default `herald`. */
  readonly clientId?: string;
  /** Partitions of the topics Herald creates on first use (event topics and retry topics). Default 6. */
  readonly partitions?: number;
  /** Replication factor of the topics Herald creates; `-1` takes the broker's default. Default -1. */
  readonly replicationFactor?: number;
  /** Prefix of Herald's own topics: `<prefix>.<group>.retry` and `<prefix>.<group>.dlq`. Default `herald`. */
  readonly topicPrefix?: string;
  /** Retention of dead-letter topics in ms; `-1` keeps dead letters until replayed or discarded. Default -1. */
  readonly deadLetterRetentionMs?: number;
  /** Consumer-group session timeout: how long a silent member keeps its partitions. Default 10000. */
  readonly sessionTimeoutMs?: number;
  /** Heartbeat interval; also bounds how soon a member notices a rebalance. Default 1000. */
  readonly heartbeatIntervalMs?: number;
  /** How long a rebalance waits for every member to rejoin. Default 30000 (>= sessionTimeoutMs). */
  readonly rebalanceTimeoutMs?: number;
  /** How long settled offsets may wait before they are committed, ms. Default 100. */
  readonly commitIntervalMs?: number;
  /** Longest a fetch waits at the broker for new records (long poll), ms. Default 500. */
  readonly maxWaitMs?: number;
  /** Bytes a fetch may return per partition. Default 1 MiB. */
  readonly fetchMaxBytesPerPartition?: number;
  /**
   * Records a subscription keeps in memory while they wait for a delayed redelivery, per retry partition. Past
   * it the retry partition is not read until some are redelivered (the records stay safe in Kafka). Default
   * 10000.
   */
  readonly maxParkedPerPartition?: number;
  /** Bytes of records coalesced into one produce request (several `publish` calls share it). Default 512 KiB. */
  readonly maxBatchBytes?: number;
  /** Timeout of each broker request, ms. Default 10000. */
  readonly requestTimeoutMs?: number;
  /** Timeout of connecting to a broker, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Attempts of a failed broker request the client makes before the error surfaces. Default 3. */
  readonly retries?: number;
  /** Delay between those attempts, ms. Default 250. */
  readonly retryDelayMs?: number;
  /** TLS options (Node's `tls.connect` options), passed to the client. */
  readonly tls?: ConnectionOptions['tls'];
  /** SASL options, passed to the client (`{ mechanism, username, password }`...). */
  readonly sasl?: ConnectionOptions['sasl'];
  /**
   * Receives errors no caller can (a failed background fetch, commit or heartbeat; they are retried).
   * Default: `console.error`.
   */
  readonly onError?: (error: unknown, scope: string) => void;
}

/** {@link KafkaTransportOptions} with every default applied. */
export interface ResolvedKafkaOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly topicPrefix: string;
  readonly deadLetterRetentionMs: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly commitIntervalMs: number;
  readonly maxWaitMs: number;
  readonly fetchMaxBytesPerPartition: number;
  readonly maxParkedPerPartition: number;
  readonly maxBatchBytes: number;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly tls: ConnectionOptions['tls'];
  readonly sasl: ConnectionOptions['sasl'];
}

const BROKER = /^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/;
/** Legal Kafka topic characters. */
export const TOPIC_CHARS = /^[A-Za-z0-9._-]+$/;
/** Kafka's limit on topic names. */
export const MAX_TOPIC_LENGTH = 249;

function integer(name: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw configError(name, `an integer >= ${min}`, value);
  }
  return value;
}

/** Applies defaults and checks every option; throws `HERALD_CONFIG` naming the option and what it accepts. */
export function resolveKafkaOptions(options: KafkaTransportOptions): ResolvedKafkaOptions {
  if (typeof options !== 'object' || options === null) {
    throw configError('options', 'an object with at least "brokers"', options);
  }
  const { brokers } = options;
  if (
    !Array.isArray(brokers) ||
    brokers.length === 0 ||
    !brokers.every((b) => typeof b === 'string' && BROKER.test(b))
  ) {
    throw configError(
      'brokers',
      'a non-empty array of "host:port" strings, e.g. ["127.0.0.1:19092"]',
      brokers,
    );
  }
  const clientId = options.clientId ?? 'herald';
  if (typeof clientId !== 'string' || !/^[A-Za-z0-9._-]{1,200}$/.test(clientId)) {
    throw configError('clientId', 'letters, digits, ".", "_" or "-" (1 to 200 characters)', clientId);
  }
  const topicPrefix = options.topicPrefix ?? 'herald';
  if (typeof topicPrefix !== 'string' || !TOPIC_CHARS.test(topicPrefix) || topicPrefix.length > 100) {
    throw configError('topicPrefix', 'letters, digits, ".", "_" or "-" (1 to 100 characters)', topicPrefix);
  }
  const replicationFactor = options.replicationFactor ?? -1;
  if (
    typeof replicationFactor !== 'number' ||
    !Number.isInteger(replicationFactor) ||
    (replicationFactor < 1 && replicationFactor !== -1)
  ) {
    throw configError(
      'replicationFactor',
      'an integer >= 1, or -1 for the broker default',
      replicationFactor,
    );
  }
  const deadLetterRetentionMs = options.deadLetterRetentionMs ?? -1;
  if (
    typeof deadLetterRetentionMs !== 'number' ||
    !Number.isInteger(deadLetterRetentionMs) ||
    (deadLetterRetentionMs < 1 && deadLetterRetentionMs !== -1)
  ) {
    throw configError(
      'deadLetterRetentionMs',
      'an integer >= 1, or -1 to keep forever',
      deadLetterRetentionMs,
    );
  }
  const sessionTimeoutMs = integer('sessionTimeoutMs', options.sessionTimeoutMs, 1, 10_000);
  const heartbeatIntervalMs = integer('heartbeatIntervalMs', options.heartbeatIntervalMs, 1, 1000);
  if (heartbeatIntervalMs > sessionTimeoutMs) {
    throw configError(
      'heartbeatIntervalMs',
      `an integer <= sessionTimeoutMs (${sessionTimeoutMs})`,
      heartbeatIntervalMs,
    );
  }
  const rebalanceTimeoutMs = integer(
    'rebalanceTimeoutMs',
    options.rebalanceTimeoutMs,
    sessionTimeoutMs,
    Math.max(30_000, sessionTimeoutMs),
  );
  const maxWaitMs = integer('maxWaitMs', options.maxWaitMs, 1, 500);
  const requestTimeoutMs = integer('requestTimeoutMs', options.requestTimeoutMs, 1, 10_000);
  if (requestTimeoutMs <= maxWaitMs) {
    // A fetch waits up to maxWaitMs at the broker; a shorter request timeout would cut every idle fetch.
    throw configError('requestTimeoutMs', `an integer > maxWaitMs (${maxWaitMs})`, requestTimeoutMs);
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw configError('onError', 'a function (error, scope) => void', options.onError);
  }
  for (const key of ['tls', 'sasl'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'object' || value === null)) {
      throw configError(key, 'an object', value);
    }
  }
  return {
    brokers: [...(brokers as readonly string[])],
    clientId,
    partitions: integer('partitions', options.partitions, 1, 6),
    replicationFactor,
    topicPrefix,
    deadLetterRetentionMs,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs,
    commitIntervalMs: integer('commitIntervalMs', options.commitIntervalMs, 0, 100),
    maxWaitMs,
    fetchMaxBytesPerPartition: integer(
      'fetchMaxBytesPerPartition',
      options.fetchMaxBytesPerPartition,
      1024,
      1_048_576,
    ),
    maxParkedPerPartition: integer('maxParkedPerPartition', options.maxParkedPerPartition, 1, 10_000),
    maxBatchBytes: integer('maxBatchBytes', options.maxBatchBytes, 1024, 524_288),
    requestTimeoutMs,
    connectTimeoutMs: integer('connectTimeoutMs', options.connectTimeoutMs, 1, 5000),
    retries: integer('retries', options.retries, 0, 3),
    retryDelayMs: integer('retryDelayMs', options.retryDelayMs, 0, 250),
    tls: options.tls,
    sasl: options.sasl,
  };
}
