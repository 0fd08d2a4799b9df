import type { FastifyInstance } from 'fastify';
import { findProduct } from '../contracts/index.ts';
import { createHttpApp } from '../runtime/http.ts';
import type { Logger } from '../runtime/logger.ts';
import type { InventoryService } from './service.ts';

/** A read-only view for people: `GET /stock`, `GET /health`. */
export function inventoryHttp(service: InventoryService, log: Logger): FastifyInstance {
  const app = createHttpApp({ service: 'inventory-service', log, health: () => service.health() });
  app.get('/stock', async () =>
    (await service.store.levels()).map((level) => ({ ...level, name: findProduct(level.sku)?.name })),
  );
  return app;
}
