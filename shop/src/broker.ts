import { isAbsolute, resolve } from 'node:path';
import { ErrorCodes, HeraldError, type Transport } from '@herald/core';
import { kafka, type KafkaTransportOptions } from '@herald/kafka';
import { nats, type NatsTransportOptions } from '@herald/nats';
import { rabbitmq, type RabbitMqOptions } from '@herald/rabbitmq';
import { sqlite, type SqliteLogStoreOptions } from '@herald/sqlite';
import { parseSqsUrl, sqs, type SqsTransportOptions } from '@herald/sqs';
import { dataDir } from './runtime/config.ts';
import { redactUrl } from './runtime/database.ts';
import { withTopicPrefix } from './runtime/topic-prefix.ts';

/** The URL schemes `HERALD_BROKER` accepts, one per transport (`amqps:` is AMQP over TLS). */
export const BROKER_SCHEMES = ['sqlite:', 'kafka:', 'amqp:', 'amqps:', 'nats:', 'sqs:'] as const;

const EXAMPLES = [
  'sqlite:.data/herald.db',
  'kafka://127.0.0.1:19092',
  'amqp://guest:guest@127.0.0.1:5672',
  'nats://127.0.0.1:4222',
  'sqs://127.0.0.1:4566?region=us-east-1',
];

/** A parsed `HERALD_BROKER`: which transport, and its options. */
export type BrokerConfig = { readonly url: string } & (
  | { readonly kind: 'sqlite'; readonly options: SqliteLogStoreOptions }
  | { readonly kind: 'kafka'; readonly options: KafkaTransportOptions }
  | { readonly kind: 'rabbitmq'; readonly options: RabbitMqOptions }
  | { readonly kind: 'nats'; readonly options: NatsTransportOptions }
  | { readonly kind: 'sqs'; readonly options: SqsTransportOptions }
);

/** The default broker: the embedded log in the data folder, shared by every service process. */
export function defaultBrokerUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `sqlite:${resolve(dataDir(env), 'herald.db')}`;
}

function brokerUrlError(url: string, problem: string): HeraldError {
  return new HeraldError(
    ErrorCodes.BROKER_URL,
    `Invalid HERALD_BROKER "${redactUrl(url)}": ${problem}. Accepted: ${BROKER_SCHEMES.map((s) => `${s}…`).join(', ')} ` +
      `(e.g. ${EXAMPLES.map((e) => `"${e}"`).join(', ')})`,
    { permanent: true, details: { option: 'HERALD_BROKER', got: redactUrl(url), accepted: BROKER_SCHEMES } },
  );
}

/** How the query parameters of one scheme map onto its transport's options. */
interface ParameterSpec {
  readonly integers?: readonly string[];
  readonly strings?: readonly string[];
  /** Parameters left in the URL for the client library (amqplib reads `frameMax`, `heartbeat`…). */
  readonly passThrough?: readonly string[];
}

const SQLITE_PARAMS: ParameterSpec = {
  integers: ['partitions', 'sessionTimeoutMs', 'busyTimeoutMs'],
  strings: ['durability'],
};
const KAFKA_PARAMS: ParameterSpec = {
  integers: [
    'partitions',
    'replicationFactor',
    'sessionTimeoutMs',
    'heartbeatIntervalMs',
    'rebalanceTimeoutMs',
    'commitIntervalMs',
    'maxWaitMs',
    'requestTimeoutMs',
  ],
  strings: ['clientId', 'topicPrefix'],
};
const AMQP_PARAMS: ParameterSpec = {
  integers: [
    'partitions',
    'prefetch',
    'rebalanceIntervalMs',
    'heartbeatSeconds',
    'publishTimeoutMs',
    'connectAttempts',
  ],
  strings: ['queueType', 'prefix', 'connectionName'],
  passThrough: ['frameMax', 'channelMax', 'heartbeat', 'locale'],
};
const NATS_PARAMS: ParameterSpec = {
  integers: [
    'partitions',
    'replicas',
    'maxAgeMs',
    'ackWaitMs',
    'maxAckPending',
    'sessionTimeoutMs',
    'handoverTimeoutMs',
    'fetchExpiresMs',
  ],
  strings: ['prefix'],
};

/** Reads the query parameters into options; returns the parameters to keep in the URL. */
function readParameters(
  url: string,
  query: URLSearchParams,
  spec: ParameterSpec,
  options: Record<string, unknown>,
): URLSearchParams {
  const kept = new URLSearchParams();
  const accepted = [...(spec.integers ?? []), ...(spec.strings ?? []), ...(spec.passThrough ?? [])];
  for (const [name, value] of query) {
    if (spec.integers?.includes(name)) {
      const number = Number(value);
      if (value === '' || !Number.isInteger(number))
        throw brokerUrlError(url, `parameter "${name}" must be an integer`);
      options[name] = number;
    } else if (spec.strings?.includes(name)) {
      options[name] = value;
    } else if (spec.passThrough?.includes(name)) {
      kept.append(name, value);
    } else {
      throw brokerUrlError(url, `unknown parameter "${name}" (accepted: ${accepted.join(', ')})`);
    }
  }
  return kept;
}

/** Splits `scheme://authority/path?query` where the authority may list several `host:port`. */
function splitNetworkUrl(
  url: string,
  scheme: string,
): { authority: string; path: string; query: URLSearchParams } {
  const rest = url.slice(scheme.length + 1);
  if (!rest.startsWith('//')) throw brokerUrlError(url, `expected "${scheme}://host:port"`);
  const match = /^\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/.exec(rest);
  if (match === null) throw brokerUrlError(url, 'not a URL');
  return { authority: match[1]!, path: match[2]!, query: new URLSearchParams(match[3] ?? '') };
}

/** `host:port` pairs, comma-separated; a port is required (the engines have no shared default). */
function hostList(url: string, hosts: string): string[] {
  const list = hosts.split(',').map((h) => h.trim());
  for (const host of list) {
    const port = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(host)?.[1];
    if (port === undefined || Number(port) < 1 || Number(port) > 65_535)
      throw brokerUrlError(url, `"${host}" is not host:port`);
  }
  return list;
}

function parseSqlite(url: string): BrokerConfig {
  let rest = url.slice('sqlite:'.length);
  if (rest.startsWith('//')) rest = rest.slice(2);
  const queryAt = rest.indexOf('?');
  const pathText = decodeURIComponent(queryAt === -1 ? rest : rest.slice(0, queryAt));
  if (pathText === '') throw brokerUrlError(url, 'no database path');
  const options: Record<string, unknown> = { path: isAbsolute(pathText) ? pathText : resolve(pathText) };
  readParameters(
    url,
    new URLSearchParams(queryAt === -1 ? '' : rest.slice(queryAt + 1)),
    SQLITE_PARAMS,
    options,
  );
  return { kind: 'sqlite', url, options: options as unknown as SqliteLogStoreOptions };
}

function parseKafka(url: string): BrokerConfig {
  const { authority, path, query } = splitNetworkUrl(url, 'kafka');
  if (authority.includes('@'))
    throw brokerUrlError(url, 'credentials are not read from the URL (use TLS/SASL options in code)');
  if (path !== '' && path !== '/') throw brokerUrlError(url, 'a Kafka URL has no path');
  const options: Record<string, unknown> = { brokers: hostList(url, authority) };
  readParameters(url, query, KAFKA_PARAMS, options);
  return { kind: 'kafka', url, options: options as unknown as KafkaTransportOptions };
}

function parseAmqp(url: string, scheme: 'amqp' | 'amqps'): BrokerConfig {
  const { authority, path, query } = splitNetworkUrl(url, scheme);
  const at = authority.lastIndexOf('@');
  const hosts = authority.slice(at + 1);
  if (hosts.includes(',')) throw brokerUrlError(url, 'AMQP takes one host:port');
  hostList(url, hosts);
  const options: Record<string, unknown> = {};
  const kept = readParameters(url, query, AMQP_PARAMS, options);
  const keptText = kept.toString();
  options.url = `${scheme}://${authority}${path}${keptText === '' ? '' : `?${keptText}`}`;
  return { kind: 'rabbitmq', url, options: options as unknown as RabbitMqOptions };
}

function parseNats(url: string): BrokerConfig {
  const { authority, path, query } = splitNetworkUrl(url, 'nats');
  if (path !== '' && path !== '/') throw brokerUrlError(url, 'a NATS URL has no path');
  const at = authority.lastIndexOf('@');
  const credentials = at === -1 ? '' : authority.slice(0, at + 1);
  const servers = hostList(url, authority.slice(at + 1)).map((host) => `nats://${credentials}${host}`);
  const options: Record<string, unknown> = { servers };
  readParameters(url, query, NATS_PARAMS, options);
  return { kind: 'nats', url, options: options as unknown as NatsTransportOptions };
}

/**
 * Parses a broker URL; throws `HERALD_BROKER_URL` naming the accepted schemes for one it cannot use.
 *
 * - `sqlite:PATH` (also `sqlite://PATH`, `sqlite:///abs/path`), a relative PATH resolved against the current
 *   directory; parameters `partitions`, `sessionTimeoutMs`, `busyTimeoutMs`, `durability` (D1|D2).
 * - `kafka://host:port[,host:port…]`; parameters `partitions`, `replicationFactor`, `sessionTimeoutMs`,
 *   `heartbeatIntervalMs`, `rebalanceTimeoutMs`, `commitIntervalMs`, `maxWaitMs`, `requestTimeoutMs`, `clientId`,
 *   `topicPrefix`.
 * - `amqp://user:pass@host:port[/vhost]` (or `amqps://`); parameters `partitions`, `prefetch`, `queueType`,
 *   `prefix`, `rebalanceIntervalMs`, `heartbeatSeconds`, `publishTimeoutMs`, `connectAttempts`, `connectionName`,
 *   and amqplib's `frameMax`, `channelMax`, `heartbeat`, `locale` (left in the URL).
 * - `nats://[user:pass@]host:port[,host:port…]`; parameters `partitions`, `replicas`, `maxAgeMs`, `ackWaitMs`,
 *   `maxAckPending`, `sessionTimeoutMs`, `handoverTimeoutMs`, `fetchExpiresMs`, `prefix`.
 * - `sqs://[host:port]?region=…&fifo=…` (AWS SNS/SQS; no host = the SDK's default endpoint); see
 *   `parseSqsUrl` in `@herald/sqs` for its parameters. Credentials come from the AWS SDK's chain, never the URL.
 *
 * Each transport then checks its options (`HERALD_CONFIG` naming the option) when it is created.
 */
export function parseBrokerUrl(url: string): BrokerConfig {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) throw brokerUrlError(url, 'no scheme');
  switch (scheme) {
    case 'sqlite':
      return parseSqlite(url);
    case 'kafka':
      return parseKafka(url);
    case 'amqp':
    case 'amqps':
      return parseAmqp(url, scheme);
    case 'nats':
      return parseNats(url);
    case 'sqs':
      return { kind: 'sqs', url, options: parseSqsUrl(url) };
    default:
      throw brokerUrlError(url, `unknown scheme "${scheme}:"`);
  }
}

/** Options every transport takes from the process rather than the URL. */
export interface TransportHooks {
  /** Background errors no caller can receive (Kafka, RabbitMQ). Default: the transport's (`console.error`). */
  readonly onError?: (error: unknown) => void;
}

/** The transport `config` names. Each service process opens its own. */
export function createTransport(config: BrokerConfig, hooks: TransportHooks = {}): Transport {
  const { onError } = hooks;
  switch (config.kind) {
    case 'sqlite':
      return sqlite(config.options);
    case 'kafka':
      return kafka({ ...config.options, ...(onError === undefined ? {} : { onError }) });
    case 'rabbitmq':
      return rabbitmq({ ...config.options, ...(onError === undefined ? {} : { onError }) });
    case 'nats':
      return nats(config.options);
    case 'sqs':
      return sqs({ ...config.options, ...(onError === undefined ? {} : { onError }) });
  }
}

/**
 * The transport `HERALD_BROKER` selects (default: {@link defaultBrokerUrl}), with `HERALD_TOPIC_PREFIX` (if set)
 * prepended to every topic and group name on the broker. Throws `HERALD_BROKER_URL` at start-up for a URL it
 * cannot use.
 */
export function brokerFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  hooks: TransportHooks = {},
): { url: string; transport: Transport } {
  const url =
    env.HERALD_BROKER === undefined || env.HERALD_BROKER === '' ? defaultBrokerUrl(env) : env.HERALD_BROKER;
  const transport = createTransport(parseBrokerUrl(url), hooks);
  return { url: redactUrl(url), transport: withTopicPrefix(transport, env.HERALD_TOPIC_PREFIX ?? '') };
}
