import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { configError } from '@herald/core';

/**
 * TLS for an `amqps://` connection. The `…File` options name PEM files, read once when the transport is made;
 * the others are Node's `tls.connect` options, passed as they are (`ca`, `cert`, `key` hold PEM contents, for a
 * secret store that hands over contents rather than paths). A file option and its content option together are
 * refused. Without any, the broker's certificate is checked against Node's bundled CAs.
 */
export interface RabbitMqTlsOptions extends Pick<
  ConnectionOptions,
  'ca' | 'cert' | 'key' | 'passphrase' | 'servername' | 'rejectUnauthorized' | 'minVersion'
> {
  /** PEM file of the CA certificate(s) the broker's certificate must chain to (instead of Node's bundled CAs). */
  readonly caFile?: string;
  /** PEM file of the client certificate, for brokers that authenticate clients by certificate. Needs a key. */
  readonly certFile?: string;
  /** PEM file of the client certificate's private key. */
  readonly keyFile?: string;
}

/** The file options and the `tls.connect` option each one fills. */
const FILES = [
  ['caFile', 'ca'],
  ['certFile', 'cert'],
  ['keyFile', 'key'],
] as const;

/** The option names {@link resolveTlsOptions} accepts. */
export const TLS_OPTION_NAMES: readonly string[] = [
  ...FILES.map(([file]) => file),
  'ca',
  'cert',
  'key',
  'passphrase',
  'servername',
  'rejectUnauthorized',
  'minVersion',
];

function readPem(option: string, path: unknown): Buffer {
  if (typeof path !== 'string' || path === '') throw configError(`tls.${option}`, 'a file path', path);
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw configError(`tls.${option}`, `a readable PEM file (reading it failed: ${reason})`, path);
  }
}

/**
 * Checks `tls` for a connection to `protocol` and reads its files: `tls.connect` options for amqplib's socket, or
 * undefined without TLS options. Throws `HERALD_CONFIG` naming the option: an unknown one, TLS options on an
 * `amqp:` URL, a file that cannot be read, a certificate without its key (or a key without its certificate), a
 * passphrase without a key. The passphrase never appears in an error.
 */
export function resolveTlsOptions(tls: unknown, protocol: string): ConnectionOptions | undefined {
  if (tls === undefined) return undefined;
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) {
    throw configError('tls', 'an object of TLS options', typeof tls);
  }
  const given = tls as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!TLS_OPTION_NAMES.includes(name)) {
      throw configError(`tls.${name}`, `one of ${TLS_OPTION_NAMES.join(', ')}`, 'an unknown option');
    }
  }
  if (protocol !== 'amqps:')
    throw configError('tls', 'no TLS options on an amqp:// URL (use amqps://)', 'some');
  const resolved: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value !== undefined && !FILES.some(([file]) => file === name)) resolved[name] = value;
  }
  for (const [file, content] of FILES) {
    if (given[file] === undefined) continue;
    if (given[content] !== undefined) {
      throw configError(`tls.${file}`, `either ${file} or ${content}, not both`, given[file]);
    }
    resolved[content] = readPem(file, given[file]);
  }
  const hasCert = resolved.cert !== undefined;
  const hasKey = resolved.key !== undefined;
  if (hasCert !== hasKey) {
    throw configError(
      hasCert ? 'tls.keyFile' : 'tls.certFile',
      'a client certificate and its key together',
      'only one of them',
    );
  }
  if (resolved.passphrase !== undefined) {
    if (typeof resolved.passphrase !== 'string')
      throw configError('tls.passphrase', 'a string', 'another type');
    if (!hasKey) throw configError('tls.passphrase', 'a key (keyFile) it unlocks', 'a passphrase alone');
  }
  if (
    resolved.servername !== undefined &&
    (typeof resolved.servername !== 'string' || resolved.servername === '')
  ) {
    throw configError('tls.servername', 'a host name', resolved.servername);
  }
  return resolved;
}
