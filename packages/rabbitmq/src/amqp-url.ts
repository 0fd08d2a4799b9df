import {
  hostList,
  readUrlParameters,
  splitNetworkUrl,
  transportUrlError,
  type TransportUrlScheme,
} from '@herald/core';
import type { RabbitMqOptions } from './rabbitmq-options.ts';
import { rabbitmq } from './rabbitmq-transport.ts';

/** The `amqps://` parameters that become {@link RabbitMqOptions.tls}. */
const TLS_PARAMETERS = ['caFile', 'certFile', 'keyFile', 'passphrase', 'servername'] as const;

/**
 * Reads `amqp://user:pass@host:port[/vhost]` (or `amqps://`, AMQP over TLS) into {@link RabbitMqOptions};
 * parameters `partitions`, `prefetch`, `queueType`, `prefix`, `rebalanceIntervalMs`, `heartbeatSeconds`,
 * `publishTimeoutMs`, `connectAttempts`, `connectionName`, amqplib's own `frameMax`, `channelMax`, `heartbeat`,
 * `locale` (left in the URL amqplib connects to), and on `amqps://` only the TLS ones `caFile`, `certFile`,
 * `keyFile` (PEM file paths), `passphrase` (of the key) and `servername` (into `tls`, out of the URL amqplib
 * sees). Throws `HERALD_BROKER_URL` for a URL it cannot read, naming an unknown parameter; error messages show
 * neither the password nor the passphrase. Files are read, and a missing one refused, when the transport is made.
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
      strings: ['queueType', 'prefix', 'connectionName', ...TLS_PARAMETERS],
      passThrough: ['frameMax', 'channelMax', 'heartbeat', 'locale'],
    },
    options,
  ).toString();
  const tls: Record<string, unknown> = {};
  for (const name of TLS_PARAMETERS) {
    if (options[name] === undefined) continue;
    if (scheme !== 'amqps')
      throw transportUrlError(url, `parameter "${name}" is a TLS one: it needs an amqps:// URL`);
    if (options[name] === '') throw transportUrlError(url, `parameter "${name}" is empty`);
    tls[name] = options[name];
  }
  const parsed: Record<string, unknown> = Object.fromEntries(
    Object.entries(options).filter(([name]) => !(name in tls)),
  );
  if (Object.keys(tls).length > 0) parsed.tls = tls;
  parsed.url = `${scheme}://${credentials}${hosts}${path}${kept === '' ? '' : `?${kept}`}`;
  return parsed as unknown as RabbitMqOptions;
}

/** The `amqp:` and `amqps:` URL forms, for `transportFromUrl` in `@herald/core`. */
export const amqpUrl: TransportUrlScheme = {
  schemes: ['amqp:', 'amqps:'],
  transport: 'rabbitmq',
  form: 'amqp[s]://user:pass@host:port[/vhost][?partitions=…][&caFile=…&certFile=…&keyFile=…]',
  parse: parseAmqpUrl,
  create: (url, { onError }) =>
    rabbitmq({ ...parseAmqpUrl(url), ...(onError === undefined ? {} : { onError }) }),
};
