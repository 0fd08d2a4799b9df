import type { FastifyInstance } from 'fastify';
import type { Transport } from '@herald/core';
import { healthChecks, httpStatus, setupTelemetry } from '@herald/telemetry';
import { brokerFromEnv } from '../broker.ts';
import { SERVICES } from '../contracts/index.ts';
import { dataDir, HOST, portFrom } from './config.ts';
import { databaseFromEnv } from './database.ts';
import type { Logger } from './logger.ts';
import { runServiceProcess } from './service-process.ts';
import type { Database, ServiceStorage } from './storage.ts';

/** What a service process hands its service factory: the broker and the database the environment selects. */
export interface ServiceContext {
  readonly transport: Transport;
  readonly database: Database;
  readonly log: Logger;
}

/** Options of {@link runShopService}. */
export interface ShopServiceMain<T> {
  /** Which service: its group, source, database file (`<name>.db`) and schema come from it. */
  readonly name: keyof typeof SERVICES;
  /** `PORT` when the environment does not set it. */
  readonly defaultPort: number;
  create(context: ServiceContext): Promise<T>;
  http(service: T, log: Logger): FastifyInstance;
  /** Extra fields for the `started` log line. */
  details?(service: T): Record<string, unknown>;
}

/** A transport error this recent makes the service unready (the broker is not reachable), ms. */
const BROKER_ERROR_WINDOW_MS = 5000;

/**
 * The `main.ts` of a shop service: telemetry first (`setupTelemetry`: traces in `<data dir>/traces.db` unless the
 * `OTEL_*` variables select OTLP, Prometheus metrics), then the transport from `HERALD_BROKER` (and
 * `HERALD_TOPIC_PREFIX`), the database from `DATABASE_URL` (else the data folder), the service, its HTTP API on
 * `PORT` with `GET /metrics`, `GET /health/live` and `GET /health/ready` added; closed in reverse order on SIGTERM
 * (see {@link runServiceProcess}), telemetry last so the last spans are flushed.
 */
export function runShopService<
  T extends { start(): Promise<void>; close(): Promise<void>; readonly storage: ServiceStorage<unknown> },
>(main: ShopServiceMain<T>): void {
  const { group } = SERVICES[main.name];
  runServiceProcess(group, async (log) => {
    const port = portFrom(process.env, 'PORT', main.defaultPort);
    const telemetry = setupTelemetry({ serviceName: group, dataDir: dataDir(process.env) });
    let lastTransportError: { at: number; error: unknown } | undefined;
    const { url: brokerUrl, transport } = await brokerFromEnv(process.env, {
      onError: (error) => {
        lastTransportError = { at: Date.now(), error };
        log.warn('transport error (retrying)', { error });
      },
    });
    const database = databaseFromEnv(main.name, group);
    const service = await main.create({ transport, database: database.database, log });
    const app = main.http(service, log);

    const { metrics } = telemetry;
    const unwatch =
      metrics === undefined
        ? []
        : [metrics.watchTransport(transport), metrics.watchOutbox(group, service.storage.backlog)];
    app.get('/metrics', async (_request, reply) => {
      if (metrics === undefined) return reply.code(404).send();
      return reply.type(metrics.contentType).send(await metrics.text());
    });
    let consumersRunning = false;
    const health = healthChecks({
      service: group,
      checks: {
        database: () => database.ping(),
        broker: async () => {
          if (
            lastTransportError !== undefined &&
            Date.now() - lastTransportError.at < BROKER_ERROR_WINDOW_MS
          ) {
            const { error } = lastTransportError;
            throw error instanceof Error ? error : new Error(String(error));
          }
          if (service.storage.relayFailures() >= 3) throw new Error('the outbox relay cannot publish');
          // Transports that can ask the broker for the group's lag prove it answers.
          await transport.consumerLag?.();
        },
        consumers: () => consumersRunning,
      },
    });
    app.get('/health/live', (_request, reply) => {
      const report = health.live();
      return reply.code(httpStatus(report)).send(report);
    });
    app.get('/health/ready', async (_request, reply) => {
      const report = await health.ready();
      return reply.code(httpStatus(report)).send(report);
    });

    await service.start();
    consumersRunning = true;
    const url = await app.listen({ host: HOST, port });
    log.info('started', {
      broker: brokerUrl,
      db: database.description,
      traces: telemetry.exporters,
      ...main.details?.(service),
    });
    return {
      url,
      async close() {
        consumersRunning = false;
        await app.close();
        await service.close();
        for (const stop of unwatch) stop();
        await transport.close();
        await database.close();
        await telemetry.shutdown();
      },
    };
  });
}
