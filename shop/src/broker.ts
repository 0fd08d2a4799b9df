import { resolve } from 'node:path';
import {
  checkTransportUrl,
  HeraldError,
  redactUrl,
  transportFromUrl,
  withTopicPrefix,
  type Transport,
  type TransportUrlOptions,
} from '@herald/core';
import { dataDir } from './runtime/config.ts';

/** The default broker: the embedded log in the data folder, shared by every service process. */
export function defaultBrokerUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `sqlite:${resolve(dataDir(env), 'herald.db')}`;
}

/** `HERALD_BROKER`, or {@link defaultBrokerUrl} when it is unset or empty. */
export function brokerUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.HERALD_BROKER === undefined || env.HERALD_BROKER === ''
    ? defaultBrokerUrl(env)
    : env.HERALD_BROKER;
}

/**
 * Checks `HERALD_BROKER` once at start-up: throws `HERALD_BROKER_URL`/`HERALD_CONFIG` with one clear message that
 * starts with the option's name (the URL in it has its credentials masked).
 */
export async function checkBrokerFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    await checkTransportUrl(brokerUrlFromEnv(env));
  } catch (error) {
    throw namingOption(error, 'HERALD_BROKER');
  }
}

/** `error` with its message prefixed by the environment variable it came from; code and details kept. */
function namingOption(error: unknown, option: string): unknown {
  if (!(error instanceof HeraldError)) return error;
  return new HeraldError(error.code, `${option}: ${error.message}`, {
    cause: error,
    permanent: error.permanent,
    ...(error.details === undefined ? {} : { details: error.details }),
  });
}

/**
 * The transport `HERALD_BROKER` selects (default: {@link defaultBrokerUrl}) through core's `transportFromUrl`,
 * with `HERALD_TOPIC_PREFIX` (if set) prepended to every topic and group name on the broker. Throws
 * `HERALD_BROKER_URL` at start-up for a URL it cannot use. `url` is the URL with its credentials masked.
 */
export async function brokerFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  hooks: Pick<TransportUrlOptions, 'onError'> = {},
): Promise<{ url: string; transport: Transport }> {
  const url = brokerUrlFromEnv(env);
  const transport = await transportFromUrl(url, hooks);
  return { url: redactUrl(url), transport: withTopicPrefix(transport, env.HERALD_TOPIC_PREFIX ?? '') };
}
