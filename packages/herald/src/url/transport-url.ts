import { ErrorCodes, HeraldError } from '../errors.ts';
import { memory } from '../memory/memory-transport.ts';
import type { Transport } from '../transport.ts';
import { redactUrl } from './redact-url.ts';

/** Options every transport takes from the process rather than from its URL. */
export interface TransportUrlOptions {
  /** Background errors no caller can receive (reconnects, heartbeats). Default: the transport's own. */
  readonly onError?: (error: unknown) => void;
  /**
   * Extra URL forms, tried before the built-in ones: a transport of your own, or a built-in one registered
   * explicitly (e.g. `[kafkaUrl]` from `@herald/kafka`) so a bundler sees the import.
   */
  readonly schemes?: readonly TransportUrlScheme[];
}

/**
 * How one transport reads its URL. Each transport package exports one (`sqliteUrl`, `kafkaUrl`, `amqpUrl`,
 * `natsUrl`, `sqsUrl`), so the URL form lives beside the options it maps onto.
 */
export interface TransportUrlScheme {
  /** The schemes it reads, with their colon (`kafka:`). */
  readonly schemes: readonly string[];
  /** The transport's name, as {@link Transport.name}. */
  readonly transport: string;
  /** The URL's form and an example, for error messages (`kafka://host:port[,host:port…]`). */
  readonly form: string;
  /** Reads the URL into the transport's options; throws `HERALD_BROKER_URL` for one it cannot read. */
  parse(url: string): unknown;
  /** The transport the URL selects. Connects lazily, as the transport's factory does. */
  create(url: string, options: TransportUrlOptions): Transport;
}

/** The built-in URL schemes and the package that reads each. `memory:` is core's in-process transport. */
export const TRANSPORT_URL_PACKAGES: Readonly<Record<string, string>> = {
  'sqlite:': '@herald/sqlite',
  'kafka:': '@herald/kafka',
  'amqp:': '@herald/rabbitmq',
  'amqps:': '@herald/rabbitmq',
  'nats:': '@herald/nats',
  'sqs:': '@herald/sqs',
};

/** `memory:` — an in-process transport, for tests and for trying things out (nothing survives the process). */
export const memoryUrl: TransportUrlScheme = {
  schemes: ['memory:'],
  transport: 'memory',
  form: 'memory:',
  parse: (url) => {
    if (url.toLowerCase() !== 'memory:') throw transportUrlError(url, 'a memory URL is "memory:" alone');
    return {};
  },
  create: (url) => {
    memoryUrl.parse(url);
    return memory();
  },
};

const EXAMPLES = [
  'sqlite:.data/herald.db',
  'kafka://127.0.0.1:19092',
  'amqp://guest:guest@127.0.0.1:5672',
  'nats://127.0.0.1:4222',
  'sqs://127.0.0.1:4566?region=us-east-1',
];

/** Every scheme {@link transportFromUrl} reads without registration. */
export const TRANSPORT_URL_SCHEMES: readonly string[] = ['memory:', ...Object.keys(TRANSPORT_URL_PACKAGES)];

/**
 * The `HERALD_BROKER_URL` error for a transport URL: the problem, the URL with its credentials masked, and the
 * accepted schemes with examples. Permanent: the URL must change.
 */
export function transportUrlError(url: string, problem: string): HeraldError {
  const shown = redactUrl(url);
  return new HeraldError(
    ErrorCodes.BROKER_URL,
    `Invalid transport URL "${shown}": ${problem}. Accepted: ${TRANSPORT_URL_SCHEMES.map((s) => `${s}…`).join(', ')} ` +
      `(e.g. ${EXAMPLES.map((e) => `"${e}"`).join(', ')})`,
    { permanent: true, details: { got: shown, accepted: TRANSPORT_URL_SCHEMES } },
  );
}

/** The URL's scheme, lower case with its colon (`kafka:`), or undefined when it has none. */
export function urlSchemeOf(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  return scheme === undefined ? undefined : `${scheme.toLowerCase()}:`;
}

function isUrlScheme(value: unknown): value is TransportUrlScheme {
  const v = value as Partial<TransportUrlScheme> | undefined;
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray(v.schemes) &&
    typeof v.parse === 'function' &&
    typeof v.create === 'function'
  );
}

/**
 * The {@link TransportUrlScheme} that reads `url`: one of `options.schemes`, else the built-in one, whose package
 * is imported on first use (so only the transports you use need to be installed). Throws `HERALD_BROKER_URL`
 * for a URL with no scheme or an unknown one, and when the package for a known scheme is not installed.
 */
export async function resolveTransportUrl(
  url: string,
  options: Pick<TransportUrlOptions, 'schemes'> = {},
): Promise<TransportUrlScheme> {
  if (typeof url !== 'string' || url === '') throw transportUrlError(url, 'empty');
  const scheme = urlSchemeOf(url);
  if (scheme === undefined) throw transportUrlError(url, 'no scheme');
  const registered = options.schemes?.find((s) => s.schemes.includes(scheme));
  if (registered !== undefined) return registered;
  if (memoryUrl.schemes.includes(scheme)) return memoryUrl;
  const packageName = TRANSPORT_URL_PACKAGES[scheme];
  if (packageName === undefined) throw transportUrlError(url, `unknown scheme "${scheme}"`);
  let module: Record<string, unknown>;
  try {
    module = (await import(packageName)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new HeraldError(
        ErrorCodes.BROKER_URL,
        `The transport URL "${redactUrl(url)}" needs the package ${packageName}: install it (npm install ${packageName})`,
        { permanent: true, cause: error, details: { package: packageName } },
      );
    }
    throw error;
  }
  const found = Object.values(module).find((v) => isUrlScheme(v) && v.schemes.includes(scheme));
  if (found === undefined) {
    throw new HeraldError(ErrorCodes.BROKER_URL, `${packageName} does not read "${scheme}" URLs`, {
      permanent: true,
      details: { package: packageName, scheme },
    });
  }
  return found as TransportUrlScheme;
}

/**
 * Checks a transport URL without creating the transport: the scheme is known, its package is installed and the
 * URL reads into options. Throws `HERALD_BROKER_URL` (a bad URL) or `HERALD_CONFIG` (a bad option value) — use it
 * at start-up so a bad `HERALD_BROKER` is one clear message.
 */
export async function checkTransportUrl(
  url: string,
  options: Pick<TransportUrlOptions, 'schemes'> = {},
): Promise<void> {
  (await resolveTransportUrl(url, options)).parse(url);
}

/**
 * The transport a URL selects, as `HERALD_BROKER` holds it: `sqlite:PATH`, `kafka://host:port[,…]`,
 * `amqp[s]://user:pass@host:port[/vhost]`, `nats://[user:pass@]host:port[,…]`, `sqs://[host:port]?region=…`, or
 * `memory:`; each transport documents its parameters (`?partitions=8&…`). The transport's package is imported on
 * first use. Throws `HERALD_BROKER_URL` naming the accepted schemes for a URL it cannot use, and `HERALD_CONFIG`
 * naming the option for a value the transport refuses; error messages never show a password.
 */
export async function transportFromUrl(url: string, options: TransportUrlOptions = {}): Promise<Transport> {
  return (await resolveTransportUrl(url, options)).create(url, options);
}
