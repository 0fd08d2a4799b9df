import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { configError, ErrorCodes, HeraldError } from '@herald/core';

/** A service the console watches: its health (`/health/ready`), metrics (`/metrics`) and fault toggles. */
export interface WatchedService {
  readonly name: string;
  /** Its HTTP base URL, without a trailing slash. */
  readonly url: string;
}

/** Everything the console needs to start, as {@link consoleConfigFromEnv} reads it. */
export interface ConsoleConfig {
  /** The interface to listen on. Default `127.0.0.1`. */
  readonly host: string;
  /** The TCP port (0: any free port). Default {@link DEFAULT_CONSOLE_PORT}. */
  readonly port: number;
  /** Required for admin actions when set; always set when {@link host} is not a loopback address. */
  readonly token: string | undefined;
  /** The broker URL, as the services have it (`HERALD_BROKER`). */
  readonly broker: string;
  /** `HERALD_TOPIC_PREFIX`, applied as the services apply it. */
  readonly topicPrefix: string;
  /** A module exporting event definitions (`HERALD_CONSOLE_CONTRACTS`): topics to watch and schemas for edits. */
  readonly contracts: string | undefined;
  /** Topics to watch besides those of the contracts (`HERALD_CONSOLE_TOPICS`, comma-separated). */
  readonly topics: readonly string[];
  /** The console's own consumer group for the live stream. Default `herald-console`. */
  readonly group: string;
  /**
   * Consumer groups whose dead letters to read besides those the transport lists on its own
   * (`HERALD_CONSOLE_GROUPS`, comma-separated): needed on transports that cannot enumerate groups (RabbitMQ).
   */
  readonly groups: readonly string[];
  readonly services: readonly WatchedService[];
  /** The local trace store file, read when it exists. Default `<data dir>/traces.db`. */
  readonly traceStore: string;
  /** A link to a trace in an OTLP backend's UI, `{traceId}` replaced (`HERALD_CONSOLE_TRACE_URL`). */
  readonly traceUrl: string | undefined;
  /** Live events kept in memory for the stream and the timelines. Default 10,000. */
  readonly bufferSize: number;
}

/** The console's port when `HERALD_CONSOLE_PORT` is unset: next to the shop's 3000-3003. */
export const DEFAULT_CONSOLE_PORT = 3100;

/** Whether `host` is a loopback name or address (`localhost`, `127.0.0.0/8`, `::1`). */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}

/**
 * Throws `HERALD_CONFIG` (`details.option: 'HERALD_CONSOLE_TOKEN'`) when `host` is not a loopback address and no
 * token is set: admin actions (replay, edit, discard, fault toggles) are never open to the network. Checked by
 * {@link consoleConfigFromEnv} and again by `startConsole`, for a configuration built in code.
 */
export function assertAdminProtected(host: string, token: string | undefined): void {
  if (token !== undefined || isLoopback(host)) return;
  throw new HeraldError(
    ErrorCodes.CONFIG,
    `HERALD_CONSOLE_TOKEN is required when HERALD_CONSOLE_HOST (${host}) is not a loopback address: admin ` +
      'actions (replay, edit, discard, fault switches) must not be open to the network. Set a token of at ' +
      'least 16 characters, or bind to 127.0.0.1.',
    { permanent: true, details: { option: 'HERALD_CONSOLE_TOKEN', host } },
  );
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw configError(name, `an integer from ${min} to ${max}`, text);
  return value;
}

function list(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Parses `HERALD_CONSOLE_SERVICES`: `name=http://host:port` pairs, comma-separated. */
export function parseServices(text: string | undefined): WatchedService[] {
  return list(text).map((pair) => {
    const at = pair.indexOf('=');
    const name = pair.slice(0, at).trim();
    const url = pair.slice(at + 1).trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (at <= 0 || parsed === undefined || !/^https?:$/.test(parsed.protocol))
      throw configError('HERALD_CONSOLE_SERVICES', 'name=http://host:port pairs, comma-separated', pair);
    return { name, url: url.replace(/\/+$/, '') };
  });
}

/**
 * Reads the console's configuration from the environment: `HERALD_CONSOLE_HOST` (default `127.0.0.1`),
 * `HERALD_CONSOLE_PORT` (default 3100), `HERALD_CONSOLE_TOKEN`, `HERALD_BROKER` (default the embedded log in
 * `HERALD_DATA_DIR`, else `.data`), `HERALD_TOPIC_PREFIX`, `HERALD_CONSOLE_CONTRACTS`, `HERALD_CONSOLE_TOPICS`,
 * `HERALD_CONSOLE_GROUP`, `HERALD_CONSOLE_GROUPS`, `HERALD_CONSOLE_SERVICES`, `HERALD_CONSOLE_TRACES`, `HERALD_CONSOLE_TRACE_URL`,
 * `HERALD_CONSOLE_BUFFER`. Throws `HERALD_CONFIG` naming the variable for a value it cannot use, and when the
 * host is not loopback and no token is set: admin actions (replay, edit, discard, fault toggles) must never be open
 * to the network.
 */
export function consoleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ConsoleConfig {
  const dataDir = resolve(env.HERALD_DATA_DIR || '.data');
  const host = env.HERALD_CONSOLE_HOST || '127.0.0.1';
  const token = env.HERALD_CONSOLE_TOKEN || undefined;
  if (token !== undefined && token.length < 16)
    throw configError('HERALD_CONSOLE_TOKEN', 'at least 16 characters', `${token.length} characters`);
  assertAdminProtected(host, token);
  const traceUrl = env.HERALD_CONSOLE_TRACE_URL || undefined;
  if (traceUrl !== undefined && !traceUrl.includes('{traceId}'))
    throw configError('HERALD_CONSOLE_TRACE_URL', 'a URL containing {traceId}', traceUrl);
  return {
    host,
    port: integer(env, 'HERALD_CONSOLE_PORT', DEFAULT_CONSOLE_PORT, 0, 65_535),
    token,
    broker: env.HERALD_BROKER || `sqlite:${resolve(dataDir, 'herald.db')}`,
    topicPrefix: env.HERALD_TOPIC_PREFIX ?? '',
    contracts: env.HERALD_CONSOLE_CONTRACTS || undefined,
    topics: list(env.HERALD_CONSOLE_TOPICS),
    group: env.HERALD_CONSOLE_GROUP || 'herald-console',
    groups: list(env.HERALD_CONSOLE_GROUPS),
    services: parseServices(env.HERALD_CONSOLE_SERVICES),
    traceStore: env.HERALD_CONSOLE_TRACES || resolve(dataDir, 'traces.db'),
    traceUrl,
    bufferSize: integer(env, 'HERALD_CONSOLE_BUFFER', 10_000, 100, 1_000_000),
  };
}
