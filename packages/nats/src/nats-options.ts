import { configError, redactUrl } from '@herald/core';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';

/** Options of {@link nats}. */
export interface NatsTransportOptions {
  /** Server URLs (`nats://127.0.0.1:4222`, `127.0.0.1:4222`). Required unless `connection` is given. */
  readonly servers?: string | readonly string[];
  /** Other connection options (credentials, TLS, name…), passed to `connect()`. */
  readonly connectionOptions?: Omit<NodeConnectionOptions, 'servers'>;
  /** An open connection to use instead of connecting; the transport then leaves it open on `close()`. */
  readonly connection?: NatsConnection;
  /**
   * Prefix of every stream and internal subject the transport creates (`herald_orders`, `herald.groups.…`), so
   * several Herald installations can share a server. Letters, digits, `_` and `-`. Default `herald`.
   */
  readonly prefix?: string;
  /** Partitions of each topic this transport creates; an existing topic keeps its own count. Default 8. */
  readonly partitions?: number;
  /** Stream replicas of the streams the transport creates (1 to 5; more than 1 needs a cluster). Default 1. */
  readonly replicas?: number;
  /** Records older than this are removed from topic streams, ms; 0 keeps them. Default 7 days. */
  readonly maxAgeMs?: number;
  /**
   * How long the server waits for a delivery's ack before redelivering it, ms. While a handler runs, the
   * transport extends it (`working()`) every third of it, so it bounds redelivery after a consumer dies, not the
   * handler's run time. Default 30000.
   */
  readonly ackWaitMs?: number;
  /** Deliveries of one partition unacknowledged at once (server-side `max_ack_pending`). Default 1000. */
  readonly maxAckPending?: number;
  /** How long a member of a group keeps its partitions without being heard from, ms. Default 10000. */
  readonly sessionTimeoutMs?: number;
  /** How long a member waits for the in-flight deliveries of a partition it hands over, ms. Default 10000. */
  readonly handoverTimeoutMs?: number;
  /** Records requested per pull from one partition. Default 64. */
  readonly fetchBatch?: number;
  /** How long one pull request waits on the server for records before the next is sent, ms. Default 30000. */
  readonly fetchExpiresMs?: number;
  /** Set `Nats-Msg-Id` from the event id, so the server drops a re-published duplicate (2 min window). Default true. */
  readonly deduplicate?: boolean;
}

/** The options with defaults applied. */
export interface ResolvedNatsOptions {
  readonly servers: string[];
  readonly connectionOptions: Omit<NodeConnectionOptions, 'servers'>;
  readonly connection: NatsConnection | undefined;
  readonly prefix: string;
  readonly partitions: number;
  readonly replicas: number;
  readonly maxAgeMs: number;
  readonly ackWaitMs: number;
  readonly maxAckPending: number;
  readonly sessionTimeoutMs: number;
  readonly handoverTimeoutMs: number;
  readonly fetchBatch: number;
  readonly fetchExpiresMs: number;
  readonly deduplicate: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function integer(option: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw configError(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** `value` as an error may show it: server URLs carry credentials (`nats://user:pass@host`), masked. */
function shownServers(value: unknown): unknown {
  if (typeof value === 'string') return redactUrl(value);
  return Array.isArray(value) ? value.map((v: unknown) => (typeof v === 'string' ? redactUrl(v) : v)) : value;
}

function serverList(value: unknown): string[] {
  const list = typeof value === 'string' ? value.split(',') : value;
  const expected = 'a server URL or a non-empty list of them (e.g. "nats://127.0.0.1:4222")';
  if (!Array.isArray(list) || list.length === 0) throw configError('servers', expected, shownServers(value));
  return list.map((server: unknown) => {
    if (typeof server !== 'string' || !/^((nats|tls|ws|wss):\/\/)?[^\s/]+(:\d+)?\/?$/.test(server.trim())) {
      throw configError('servers', expected, shownServers(value));
    }
    return server.trim();
  });
}

/**
 * Checks the options at start-up and applies the defaults. Throws `HERALD_CONFIG` naming the option and what it
 * accepts.
 */
export function resolveNatsOptions(options: NatsTransportOptions): ResolvedNatsOptions {
  if (typeof options !== 'object' || options === null) {
    throw configError('options', 'an object with "servers"', options);
  }
  const connection = options.connection;
  if (connection !== undefined && (typeof connection !== 'object' || connection === null)) {
    throw configError('connection', 'a NatsConnection', connection);
  }
  const servers =
    connection === undefined || options.servers !== undefined ? serverList(options.servers) : [];
  const prefix = options.prefix ?? 'herald';
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(prefix)) {
    throw configError('prefix', '1 to 32 letters, digits, "_" or "-"', prefix);
  }
  const ackWaitMs = integer('ackWaitMs', options.ackWaitMs, 30_000, 1000, 12 * 60 * 60 * 1000);
  const sessionTimeoutMs = integer('sessionTimeoutMs', options.sessionTimeoutMs, 10_000, 300, 10 * 60 * 1000);
  const deduplicate = options.deduplicate ?? true;
  if (typeof deduplicate !== 'boolean') throw configError('deduplicate', 'a boolean', deduplicate);
  const connectionOptions = options.connectionOptions ?? {};
  if (typeof connectionOptions !== 'object' || connectionOptions === null) {
    throw configError('connectionOptions', 'an object of NATS connection options', connectionOptions);
  }
  return {
    servers,
    connectionOptions,
    connection,
    prefix,
    partitions: integer('partitions', options.partitions, 8, 1, 1024),
    replicas: integer('replicas', options.replicas, 1, 1, 5),
    maxAgeMs: integer('maxAgeMs', options.maxAgeMs, 7 * DAY_MS, 0, Number.MAX_SAFE_INTEGER),
    ackWaitMs,
    maxAckPending: integer('maxAckPending', options.maxAckPending, 1000, 1, 1_000_000),
    sessionTimeoutMs,
    handoverTimeoutMs: integer('handoverTimeoutMs', options.handoverTimeoutMs, 10_000, 0, 10 * 60 * 1000),
    fetchBatch: integer('fetchBatch', options.fetchBatch, 64, 1, 10_000),
    fetchExpiresMs: integer('fetchExpiresMs', options.fetchExpiresMs, 30_000, 1000, 5 * 60_000),
    deduplicate,
  };
}
