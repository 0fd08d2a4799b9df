import {
  hostList,
  readUrlParameters,
  splitNetworkUrl,
  transportUrlError,
  type TransportUrlScheme,
} from '@herald/core';
import type { RabbitMqOptions } from './rabbitmq-options.ts';
import { rabbitmq } from './rabbitmq-transport.ts';

/**
 * Reads `amqp://user:pass@host:port[/vhost]` (or `amqps://`, AMQP over TLS) into {@link RabbitMqOptions};
 * parameters `partitions`, `prefetch`, `queueType`, `prefix`, `rebalanceIntervalMs`, `heartbeatSeconds`,
 * `publishTimeoutMs`, `connectAttempts`, `connectionName`, and amqplib's own `frameMax`, `channelMax`,
 * `heartbeat`, `locale` (left in the URL amqplib connects to). Throws `HERALD_BROKER_URL` for a URL it cannot
 * read; error messages show no password.
 */
export function parseAmqpUrl(url: string): RabbitMqOptions {
  const scheme = /^(amqps?):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) throw transportUrlError(url, 'the scheme is not "amqp:" or "amqps:"');
  const { credentials, hosts, path, query } = splitNetworkUrl(url, scheme);
  if (hosts.includes(',')) throw transportUrlError(url, 'AMQP takes one host:port');
  hostList(url, hosts);
  const options: Record<string, unknown> = {};
  const kept = readUrlParameters(
    url,
    query,
    {
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
    },
    options,
  ).toString();
  options.url = `${scheme}://${credentials}${hosts}${path}${kept === '' ? '' : `?${kept}`}`;
  return options as unknown as RabbitMqOptions;
}

/** The `amqp:` and `amqps:` URL forms, for `transportFromUrl` in `@herald/core`. */
export const amqpUrl: TransportUrlScheme = {
  schemes: ['amqp:', 'amqps:'],
  transport: 'rabbitmq',
  form: 'amqp[s]://user:pass@host:port[/vhost][?partitions=…]',
  parse: parseAmqpUrl,
  create: (url, { onError }) =>
    rabbitmq({ ...parseAmqpUrl(url), ...(onError === undefined ? {} : { onError }) }),
};
