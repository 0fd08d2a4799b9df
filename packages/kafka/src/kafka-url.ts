import {
  hostList,
  readUrlParameters,
  splitNetworkUrl,
  transportUrlError,
  type TransportUrlScheme,
} from '@herald/core';
import type { KafkaTransportOptions } from './kafka-options.ts';
import { kafka } from './kafka-transport.ts';

/**
 * Reads `kafka://host:port[,host:port…]` into {@link KafkaTransportOptions}; parameters `partitions`,
 * `replicationFactor`, `sessionTimeoutMs`, `heartbeatIntervalMs`, `rebalanceTimeoutMs`, `commitIntervalMs`,
 * `maxWaitMs`, `requestTimeoutMs`, `clientId`, `topicPrefix`. Credentials are not read from a URL (it ends up in
 * logs): pass TLS/SASL options in code. Throws `HERALD_BROKER_URL` for a URL it cannot read.
 */
export function parseKafkaUrl(url: string): KafkaTransportOptions {
  if (!/^kafka:/i.test(url)) throw transportUrlError(url, 'the scheme is not "kafka:"');
  const { credentials, hosts, path, query } = splitNetworkUrl(url, 'kafka');
  if (credentials !== '')
    throw transportUrlError(url, 'credentials are not read from the URL (use TLS/SASL options in code)');
  if (path !== '' && path !== '/') throw transportUrlError(url, 'a Kafka URL has no path');
  const options: Record<string, unknown> = { brokers: hostList(url, hosts) };
  readUrlParameters(
    url,
    query,
    {
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
    },
    options,
  );
  return options as unknown as KafkaTransportOptions;
}

/** The `kafka:` URL form, for `transportFromUrl` in `@herald/core`. */
export const kafkaUrl: TransportUrlScheme = {
  schemes: ['kafka:'],
  transport: 'kafka',
  form: 'kafka://host:port[,host:port…][?partitions=…]',
  parse: parseKafkaUrl,
  create: (url, { onError }) =>
    kafka({ ...parseKafkaUrl(url), ...(onError === undefined ? {} : { onError }) }),
};
