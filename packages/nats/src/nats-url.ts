import {
  hostList,
  readUrlParameters,
  splitNetworkUrl,
  transportUrlError,
  type TransportUrlScheme,
} from '@herald/core';
import type { NatsTransportOptions } from './nats-options.ts';
import { nats } from './nats-transport.ts';

/**
 * Reads `nats://[user:pass@]host:port[,host:port…]` into {@link NatsTransportOptions} (each server keeps the
 * credentials); parameters `partitions`, `replicas`, `maxAgeMs`, `ackWaitMs`, `maxAckPending`,
 * `sessionTimeoutMs`, `handoverTimeoutMs`, `fetchExpiresMs`, `prefix`. Throws `HERALD_BROKER_URL` for a URL it
 * cannot read; error messages show no password.
 */
export function parseNatsUrl(url: string): NatsTransportOptions {
  if (!/^nats:/i.test(url)) throw transportUrlError(url, 'the scheme is not "nats:"');
  const { credentials, hosts, path, query } = splitNetworkUrl(url, 'nats');
  if (path !== '' && path !== '/') throw transportUrlError(url, 'a NATS URL has no path');
  const servers = hostList(url, hosts).map((host) => `nats://${credentials}${host}`);
  const options: Record<string, unknown> = { servers };
  readUrlParameters(
    url,
    query,
    {
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
    },
    options,
  );
  return options;
}

/** The `nats:` URL form, for `transportFromUrl` in `@herald/core`. */
export const natsUrl: TransportUrlScheme = {
  schemes: ['nats:'],
  transport: 'nats',
  form: 'nats://[user:pass@]host:port[,host:port…][?partitions=…]',
  parse: parseNatsUrl,
  create: (url) => nats(parseNatsUrl(url)),
};
