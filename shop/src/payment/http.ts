import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../runtime/http.ts';
import type { Logger } from '../runtime/logger.ts';
import type { PaymentService } from './service.ts';

/** A read-only view for people: `GET /payments` (recent payments), `GET /ledger`, `GET /health`. */
export function paymentHttp(service: PaymentService, log: Logger): FastifyInstance {
  const app = createHttpApp({ service: 'payment-service', log, health: () => service.health() });
  app.get('/payments', async () =>
    (await service.store.recent(100)).map((p) => ({ ...p, amount: p.amountCents / 100 })),
  );
  app.get('/ledger', () => service.store.ledger());
  return app;
}
