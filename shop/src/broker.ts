import { isAbsolute, resolve } from 'node:path';
import { ErrorCodes, HeraldError, type Transport } from '@herald/core';
import { sqlite, type SqliteLogStoreOptions } from '@herald/sqlite';
import { dataDir } from './runtime/config.ts';

/** The URL schemes `HERALD_BROKER` accepts. Later transports (kafka, amqp, nats, sqs) add theirs here. */
export const BROKER_SCHEMES = ['sqlite:'] as const;

/** A parsed `HERALD_BROKER`. */
export type BrokerConfig = {
  readonly kind: 'sqlite';
  /** The URL as given (or the default). */
  readonly url: string;
  readonly options: SqliteLogStoreOptions;
};

/** The default broker: the embedded log in the data folder, shared by every service process. */
export function defaultBrokerUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `sqlite:${resolve(dataDir(env), 'herald.db')}`;
}

function brokerUrlError(url: string, problem: string): HeraldError {
  return new HeraldError(
    ErrorCodes.BROKER_URL,
    `Invalid HERALD_BROKER "${url}": ${problem}. Accepted: ${BROKER_SCHEMES.map((s) => `${s}…`).join(', ')} ` +
      `(e.g. "sqlite:.data/herald.db")`,
    { permanent: true, details: { option: 'HERALD_BROKER', got: url, accepted: BROKER_SCHEMES } },
  );
}

const SQLITE_NUMBER_PARAMS = ['partitions', 'sessionTimeoutMs', 'busyTimeoutMs'] as const;

/**
 * Parses a broker URL. `sqlite:PATH` (also `sqlite://PATH`, `sqlite:///abs/path`), with optional query
 * parameters `partitions`, `sessionTimeoutMs`, `busyTimeoutMs`, `durability` (D1|D2); a relative PATH is
 * resolved against the current directory. Throws `HERALD_BROKER_URL` naming the accepted schemes.
 */
export function parseBrokerUrl(url: string): BrokerConfig {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) throw brokerUrlError(url, 'no scheme');
  if (scheme !== 'sqlite') throw brokerUrlError(url, `unknown scheme "${scheme}:"`);
  let rest = url.slice('sqlite:'.length);
  if (rest.startsWith('//')) rest = rest.slice(2);
  const queryAt = rest.indexOf('?');
  const pathText = decodeURIComponent(queryAt === -1 ? rest : rest.slice(0, queryAt));
  const query = new URLSearchParams(queryAt === -1 ? '' : rest.slice(queryAt + 1));
  if (pathText === '') throw brokerUrlError(url, 'no database path');
  const options: Record<string, unknown> = { path: isAbsolute(pathText) ? pathText : resolve(pathText) };
  for (const [name, value] of query) {
    if ((SQLITE_NUMBER_PARAMS as readonly string[]).includes(name)) {
      const number = Number(value);
      if (!Number.isInteger(number)) throw brokerUrlError(url, `parameter "${name}" must be an integer`);
      options[name] = number;
    } else if (name === 'durability') {
      options.durability = value;
    } else {
      throw brokerUrlError(
        url,
        `unknown parameter "${name}" (accepted: ${[...SQLITE_NUMBER_PARAMS, 'durability'].join(', ')})`,
      );
    }
  }
  return { kind: 'sqlite', url, options: options as unknown as SqliteLogStoreOptions };
}

/** The transport `config` names. Each service process opens its own. */
export function createTransport(config: BrokerConfig): Transport {
  switch (config.kind) {
    case 'sqlite':
      return sqlite(config.options);
  }
}

/**
 * The transport `HERALD_BROKER` selects (default: {@link defaultBrokerUrl}). Throws `HERALD_BROKER_URL` at
 * start-up for a URL it cannot use.
 */
export function brokerFromEnv(env: NodeJS.ProcessEnv = process.env): { url: string; transport: Transport } {
  const url =
    env.HERALD_BROKER === undefined || env.HERALD_BROKER === '' ? defaultBrokerUrl(env) : env.HERALD_BROKER;
  return { url, transport: createTransport(parseBrokerUrl(url)) };
}
