import type { FastifyInstance } from 'fastify';
import { createHttpApp, fieldErrors, sendProblem, validationProblem } from '../runtime/http.ts';
import { nextLink, PageQuery, servePage } from '../runtime/pagination.ts';
import type { Logger } from '../runtime/logger.ts';
import type { PaymentService } from './service.ts';

/**
 * A read-only view for people, every list in keyset pages (`?limit=` 1–1000, default 100; `?after=` the cursor a
 * full page's `Link: <…>; rel="next"` header gives): `GET /payments` (by order id, descending), `GET /ledger`
 * (in the order of the entries), `GET /health`.
 */
export function paymentHttp(service: PaymentService, log: Logger): FastifyInstance {
  const app = createHttpApp({ service: 'payment-service', log, health: () => service.health() });
  app.get('/payments', (request, reply) =>
    servePage(request, reply, {
      path: '/payments',
      read: (after, limit) => service.store.page(after, limit),
      keyOf: (payment) => payment.orderId,
      view: (payment) => ({ ...payment, amount: payment.amountCents / 100 }),
    }),
  );
  app.get('/ledger', async (request, reply) => {
    const parsed = PageQuery.safeParse(request.query);
    if (!parsed.success)
      return sendProblem(reply, validationProblem(fieldErrors(parsed.error), request.url, 'Invalid query'));
    const { limit, after } = parsed.data;
    const page = await service.store.ledgerPage(after, limit);
    const link = nextLink('/ledger', limit, page.length, page.at(-1)?.id);
    if (link !== undefined) void reply.header('link', link);
    return page.map((entry) => ({ ...entry, amount: entry.amountCents / 100 }));
  });
  return app;
}
