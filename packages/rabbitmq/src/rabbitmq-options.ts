import type { ConnectionOptions } from 'node:tls';
import { configError, redactUrl } from '@herald/core';
import { resolveTlsOptions, type RabbitMqTlsOptions } from './tls-options.ts';

/** Options of {@link rabbitmq}. */
export interface RabbitMqOptions {
  /** `amqp://user:password@host:port/vhost` or `amqps://…`. Query parameters (`frameMax`…) are kept. */
  readonly url: string;
  /**
   * Partition queues per (topic, group). A key always lands in the same partition, and each partition is
   * consumed by one member of the group at a time, which is what keeps a key's order. Every process of a system
   * must use the same value: it is stored on the topic's exchange and the broker refuses a different one.
   * Default 8.
   */
  readonly partitions?: number;
  /** Unacknowledged deliveries a member holds per partition it consumes (AMQP `basic.qos`). Default 32. */
  readonly prefetch?: number;
  /**
   * Type of the durable queues (partitions, delay tiers, dead letters). `quorum` is replicated, returns
   * unacknowledged messages ahead of the rest and dead-letters at least once; `classic` is lighter on one node.
   * Default `quorum`.
   */
  readonly queueType?: 'quorum' | 'classic';
  /** Prepended to every exchange and queue name, to share a vhost (a vhost per system is the better tool). */
  readonly prefix?: string;
  /** How often a member checks its group's membership and takes or hands over partitions, ms. Default 1000. */
  readonly rebalanceIntervalMs?: number;
  /** AMQP heartbeat, s: how soon a silent peer (and its partitions) is given up. Default 10. */
  readonly heartbeatSeconds?: number;
  /** How long a publish waits for the broker's confirm before failing with `HERALD_TRANSPORT`, ms. Default 30000. */
  readonly publishTimeoutMs?: number;
  /** Connection attempts at start-up before failing (after that, reconnection never gives up). Default 3. */
  readonly connectAttempts?: number;
  /** Shown as the connection name in the management UI. Default `herald`. */
  readonly connectionName?: string;
  /**
   * TLS for an `amqps://` URL: a CA file, a client certificate and key, the key's passphrase, the server name.
   * Files are read when the transport is made, so a missing one fails at start-up naming the option. Refused on
   * `amqp://`. Default: TLS with Node's bundled CAs on `amqps://`.
   */
  readonly tls?: RabbitMqTlsOptions;
  /** Errors no caller can receive (a lost connection, a failed rebalance). Default: `console.error`. */
  readonly onError?: (error: unknown) => void;
}

/** {@link RabbitMqOptions} with defaults applied and checked. */
export interface ResolvedRabbitMqOptions {
  readonly url: string;
  readonly partitions: number;
  readonly prefetch: number;
  readonly queueType: 'quorum' | 'classic';
  readonly prefix: string;
  readonly rebalanceIntervalMs: number;
  readonly heartbeatSeconds: number;
  readonly publishTimeoutMs: number;
  readonly connectAttempts: number;
  readonly connectionName: string;
  /** `tls.connect` options with the files read, or undefined without TLS options. */
  readonly tls: ConnectionOptions | undefined;
}

const PREFIX_PATTERN = /^[A-Za-z0-9._:-]*$/;

function integer(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw configError(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/**
 * Checks the options and applies defaults. Throws `HERALD_CONFIG` naming the option and the accepted values,
 * so a typo fails at start-up.
 */
export function resolveOptions(options: RabbitMqOptions): ResolvedRabbitMqOptions {
  if (typeof options !== 'object' || options === null) throw configError('options', 'an object', options);
  const { url } = options;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL holds the password: the error shows it masked.
    throw configError('url', 'an amqp:// or amqps:// URL', typeof url === 'string' ? redactUrl(url) : url);
  }
  if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
    throw configError('url', 'an amqp:// or amqps:// URL', redactUrl(url));
  }
  const queueType = options.queueType ?? 'quorum';
  if (queueType !== 'quorum' && queueType !== 'classic') {
    throw configError('queueType', '"quorum" or "classic"', queueType);
  }
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix) || prefix.length > 100) {
    throw configError('prefix', 'up to 100 letters, digits, ".", "_", ":" or "-"', prefix);
  }
  const connectionName = options.connectionName ?? 'herald';
  if (typeof connectionName !== 'string') throw configError('connectionName', 'a string', connectionName);
  return {
    url,
    partitions: integer('partitions', options.partitions, 8, 1, 1024),
    prefetch: integer('prefetch', options.prefetch, 32, 1, 65_535),
    queueType,
    prefix,
    rebalanceIntervalMs: integer('rebalanceIntervalMs', options.rebalanceIntervalMs, 1000, 10, 600_000),
    heartbeatSeconds: integer('heartbeatSeconds', options.heartbeatSeconds, 10, 0, 3600),
    publishTimeoutMs: integer('publishTimeoutMs', options.publishTimeoutMs, 30_000, 1, 3_600_000),
    connectAttempts: integer('connectAttempts', options.connectAttempts, 3, 1, 1000),
    connectionName,
    tls: resolveTlsOptions(options.tls, parsed.protocol),
  };
}

/** The URL amqplib connects to: the user's, with the heartbeat added unless the URL sets one. */
export function connectionUrl(options: ResolvedRabbitMqOptions): string {
  const url = new URL(options.url);
  if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(options.heartbeatSeconds));
  return url.toString();
}
