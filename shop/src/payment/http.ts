import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { adminTokenGuard } from '../runtime/admin-token.ts';
import { createHttpApp, fieldErrors, sendProblem, validationProblem } from '../runtime/http.ts';
import { nextLink, PageQuery, servePage } from '../runtime/pagination.ts';
import type { Logger } from '../runtime/logger.ts';
import type { PaymentService } from './service.ts';

const FaultSwitch = z.strictObject({ name: z.string(), enabled: z.boolean() });

/**
 * A read-only view for people, every list in keyset pages (`?limit=` 1–1000, default 100; `?after=` the cursor a
 * full page's `Link: <…>; rel="next"` header gives): `GET /payments` (by order id, descending), `GET /ledger`
 * (in the order of the entries), `GET /health`; and the fault switches for demonstrations (`GET /admin/faults`,
 * `POST /admin/faults` `{ name, enabled }`, token-guarded like the console's admin actions, see `adminTokenGuard`).
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
  const admin = adminTokenGuard();
  app.get('/admin/faults', { preHandler: admin }, () => ({ faults: service.faults.list() }));
  app.post('/admin/faults', { preHandler: admin }, async (request, reply) => {
    const parsed = FaultSwitch.safeParse(request.body);
    if (!parsed.success)
      return sendProblem(
        reply,
        validationProblem(fieldErrors(parsed.error), request.url, 'Invalid fault switch'),
      );
    if (!service.faults.set(parsed.data.name, parsed.data.enabled))
      return sendProblem(reply, {
        title: 'Not Found',
        status: 404,
        detail: `No fault "${parsed.data.name}"; faults: ${service.faults
          .list()
          .map((f) => f.name)
          .join(', ')}`,
        instance: request.url,
      });
    log.warn(`fault ${parsed.data.name} switched ${parsed.data.enabled ? 'on' : 'off'}`);
    return { faults: service.faults.list() };
  });
  return app;
}
