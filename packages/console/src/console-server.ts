import { DEFAULT_MAX_REPLAYS, loadContracts } from '@herald/cli';
import {
  redactUrl,
  transportFromUrl,
  withTopicPrefix,
  type EventDefinition,
  type Transport,
} from '@herald/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { adminGuard } from './admin-guard.ts';
import { assertAdminProtected, type ConsoleConfig } from './config.ts';
import { LiveEvents } from './live-events.ts';
import { assetRoutes } from './routes/assets.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { eventRoutes } from './routes/events.ts';
import { serviceRoutes } from './routes/services.ts';
import { timelineRoutes } from './routes/timeline.ts';
import { TopologySampler } from './topology.ts';
import { TraceSource } from './trace-source.ts';

/** A running console. */
export interface RunningConsole {
  /** Where it listens (`http://127.0.0.1:3100`). */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly transport: Transport;
  /** Stops the HTTP server (open streams included), the live subscription, the trace store, the transport. */
  close(): Promise<void>;
}

/** Options of {@link startConsole} beyond the configuration. */
export interface StartConsoleOptions {
  /** Reports asynchronous transport errors (a lost connection). Default: `console.error`. */
  readonly onError?: (error: unknown) => void;
}

async function definitionsOf(config: ConsoleConfig): Promise<Map<string, EventDefinition>> {
  return config.contracts === undefined ? new Map() : loadContracts(config.contracts);
}

/**
 * Starts the console: connects to the broker with `transportFromUrl` (the services' `HERALD_BROKER` and
 * `HERALD_TOPIC_PREFIX`), loads the contracts (topics to watch, schemas for edited dead letters), subscribes its
 * own group to those topics from the newest event, and serves the pages and the API on `config.host:port`.
 * Resolves once it listens and the live subscription receives; on any failure it closes what it opened and
 * rejects (`HERALD_CONFIG`, `HERALD_BROKER_URL`...).
 */
export async function startConsole(
  config: ConsoleConfig,
  options: StartConsoleOptions = {},
): Promise<RunningConsole> {
  // The environment's reader checks this too; a configuration built in code must not skip it.
  assertAdminProtected(config.host, config.token);
  const definitions = await definitionsOf(config);
  const topics = [...new Set([...[...definitions.values()].map((d) => d.topic), ...config.topics])].sort();
  const raw = await transportFromUrl(config.broker, {
    onError: options.onError ?? ((error) => console.error('herald-console: transport error', error)),
  });
  let transport: Transport;
  try {
    transport = withTopicPrefix(raw, config.topicPrefix);
  } catch (error) {
    await raw.close();
    throw error;
  }
  const live = new LiveEvents(transport, { group: config.group, topics, bufferSize: config.bufferSize });
  const traces = new TraceSource(config.traceStore, config.traceUrl);
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 1024 * 1024 });
  const close = async () => {
    await app.close();
    await live.close();
    traces.close();
    await transport.close();
  };
  try {
    await live.start();
    const admin = adminGuard(config.token);
    const topology = new TopologySampler(transport, config.services, live);
    app.get('/api/info', () => ({
      broker: redactUrl(config.broker),
      transport: transport.name,
      capabilities: transport.capabilities,
      topicPrefix: config.topicPrefix,
      topics,
      group: config.group,
      groups: config.groups,
      services: config.services,
      tokenRequired: config.token !== undefined,
      traces: config.traceUrl === undefined ? 'local' : 'link',
      types: [...definitions.keys()].sort(),
    }));
    assetRoutes(app);
    eventRoutes(app, live);
    const { groups } = config;
    deadLetterRoutes(app, { transport, groups, definitions, admin, maxReplays: DEFAULT_MAX_REPLAYS });
    timelineRoutes(app, { live, transport, groups, traces });
    serviceRoutes(app, { services: config.services, topology, admin, token: config.token });
    const url = await app.listen({ host: config.host, port: config.port });
    return { url, app, transport, close };
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
}
