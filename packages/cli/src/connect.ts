import { transportFromUrl, withTopicPrefix, type Transport } from '@herald/core';

/** The broker the CLI uses when neither `--broker` nor `HERALD_BROKER` says: the shop's embedded log. */
export const DEFAULT_BROKER = 'sqlite:.data/herald.db';

/** Where to connect, as the CLI resolved it from its flags and environment. */
export interface ConnectOptions {
  /** `--broker`; overrides `HERALD_BROKER`. */
  readonly broker?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Reports asynchronous transport errors (a lost connection) instead of crashing. */
  readonly onError?: (error: unknown) => void;
}

/** The broker URL: `--broker`, else `HERALD_BROKER`, else {@link DEFAULT_BROKER} (relative to the cwd). */
export function brokerUrl(options: ConnectOptions): string {
  const env = options.env ?? process.env;
  return options.broker ?? (env.HERALD_BROKER || DEFAULT_BROKER);
}

/**
 * Opens the transport the CLI operates on, with `HERALD_TOPIC_PREFIX` applied as the services apply it, so the
 * CLI sees their topics, groups and dead letters under their unprefixed names. The only place the CLI opens a
 * transport. Throws `HERALD_BROKER_URL` / `HERALD_CONFIG` for a URL or prefix it cannot use.
 */
export async function connect(options: ConnectOptions = {}): Promise<Transport> {
  return (await connectWithDetails(options)).transport;
}

/** A transport opened by {@link connectWithDetails}, with what tools that clean up after themselves need. */
export interface ConnectedTransport {
  /** The transport with `HERALD_TOPIC_PREFIX` applied (what {@link connect} returns). */
  readonly transport: Transport;
  /** The transport as opened from the URL, under the prefix wrapper (closing `transport` closes it). */
  readonly inner: Transport;
  readonly url: string;
  /** `HERALD_TOPIC_PREFIX`, or `''`. */
  readonly topicPrefix: string;
}

/** {@link connect}, also handing back the unwrapped transport, the URL and the topic prefix. */
export async function connectWithDetails(options: ConnectOptions = {}): Promise<ConnectedTransport> {
  const env = options.env ?? process.env;
  const url = brokerUrl(options);
  const topicPrefix = env.HERALD_TOPIC_PREFIX ?? '';
  const inner = await transportFromUrl(
    url,
    options.onError === undefined ? {} : { onError: options.onError },
  );
  try {
    return { transport: withTopicPrefix(inner, topicPrefix), inner, url, topicPrefix };
  } catch (error) {
    await inner.close();
    throw error;
  }
}
