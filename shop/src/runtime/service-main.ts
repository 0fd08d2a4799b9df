import type { FastifyInstance } from 'fastify';
import type { Transport } from '@herald/core';
import { brokerFromEnv } from '../broker.ts';
import { SERVICES } from '../contracts/index.ts';
import { HOST, portFrom } from './config.ts';
import { databaseFromEnv } from './database.ts';
import type { Logger } from './logger.ts';
import { runServiceProcess } from './service-process.ts';
import type { Database } from './storage.ts';

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

/**
 * The `main.ts` of a shop service: the transport from `HERALD_BROKER` (and `HERALD_TOPIC_PREFIX`), the database
 * from `DATABASE_URL` (else the data folder), the service, its HTTP API on `PORT`; closed in reverse order on
 * SIGTERM (see {@link runServiceProcess}).
 */
export function runShopService<T extends { start(): Promise<void>; close(): Promise<void> }>(
  main: ShopServiceMain<T>,
): void {
  const { group } = SERVICES[main.name];
  runServiceProcess(group, async (log) => {
    const port = portFrom(process.env, 'PORT', main.defaultPort);
    const { url: brokerUrl, transport } = brokerFromEnv(process.env, {
      onError: (error) => log.warn('transport error (retrying)', { error }),
    });
    const database = databaseFromEnv(main.name, group);
    const service = await main.create({ transport, database: database.database, log });
    const app = main.http(service, log);
    await service.start();
    const url = await app.listen({ host: HOST, port });
    log.info('started', { broker: brokerUrl, db: database.description, ...main.details?.(service) });
    return {
      url,
      async close() {
        await app.close();
        await service.close();
        await transport.close();
        await database.close();
      },
    };
  });
}
