import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CATALOGUE } from '../contracts/index.ts';
import { createHttpApp, fieldErrors, sendProblem, validationProblem } from '../runtime/http.ts';
import type { Logger } from '../runtime/logger.ts';
import { servePage } from '../runtime/pagination.ts';
import { IdempotencyKeyReusedError, UnknownSkuError, type OrderService } from './service.ts';

/** The body of `POST /orders`. Unknown fields are refused, so a misspelt field is reported, not ignored. */
export const PlaceOrderBody = z.strictObject({
  userId: z.string().trim().min(1).max(200),
  items: z
    .array(
      z.strictObject({
        sku: z.string().min(1).max(64),
        quantity: z.number().int().positive().max(1000),
      }),
    )
    .min(1)
    .max(100),
});

/**
 * An `Idempotency-Key`: 1 to 255 characters of `A-Z a-z 0-9 . _ ~ : + / = -` (a UUID, a ULID, base64), one
 * header only (Node joins repeated headers with `, `, which this refuses).
 */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._~:+/=-]{1,255}$/;

/**
 * The order API: `GET /products`, `POST /orders` (202 + Location; an `Idempotency-Key` header makes a retry
 * return the same order, marked `Idempotent-Replayed: true`, and a reuse with another body a 422), `GET /orders/:id`, `GET /orders`
 * (newest first, in keyset pages: `?limit=` 1–1000, default 100, `?after=` the cursor a full page's
 * `Link: <…>; rel="next"` header gives), `GET /health`. Every error is `application/problem+json`; a bad body or unknown SKU is a 400 naming the field.
 */
export function orderHttp(service: OrderService, log: Logger): FastifyInstance {
  const app = createHttpApp({ service: 'order-service', log, health: () => service.health() });

  app.get('/products', () =>
    CATALOGUE.map((product) => ({ sku: product.sku, name: product.name, price: product.priceCents / 100 })),
  );

  app.post('/orders', async (request, reply) => {
    const parsed = PlaceOrderBody.safeParse(request.body);
    if (!parsed.success) return sendProblem(reply, validationProblem(fieldErrors(parsed.error), request.url));
    const key = request.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) {
      return sendProblem(reply, {
        title: 'Invalid Idempotency-Key',
        status: 400,
        detail: 'Idempotency-Key must be one header of 1 to 255 characters from A-Z a-z 0-9 . _ ~ : + / = -',
        instance: request.url,
      });
    }
    try {
      const { order, replayed } =
        key === undefined
          ? { order: await service.placeOrder(parsed.data), replayed: false }
          : await service.placeOrderIdempotent(parsed.data, key);
      if (replayed) void reply.header('idempotent-replayed', 'true');
      return await reply
        .code(202)
        .header('location', `/orders/${order.orderId}`)
        .send({ orderId: order.orderId, status: order.status });
    } catch (error) {
      if (error instanceof IdempotencyKeyReusedError) {
        return sendProblem(reply, {
          title: 'Idempotency-Key reused',
          status: 422,
          detail: `${error.message}: retry with the same body, or use a new key`,
          instance: request.url,
        });
      }
      if (!(error instanceof UnknownSkuError)) throw error;
      return sendProblem(
        reply,
        validationProblem(
          error.unknown.map(({ index, sku }) => ({
            field: `items.${index}.sku`,
            message: `unknown sku "${sku}"`,
          })),
          request.url,
        ),
      );
    }
  });

  app.get('/orders', (request, reply) =>
    servePage(request, reply, {
      path: '/orders',
      read: (after, limit) => service.listOrders(after, limit),
      keyOf: (order) => order.orderId,
      view: (order) => order,
    }),
  );

  app.get<{ Params: { id: string } }>('/orders/:id', async (request, reply) => {
    const order = await service.getOrder(request.params.id);
    if (order === undefined) {
      return sendProblem(reply, {
        title: 'Not Found',
        status: 404,
        detail: `No order ${request.params.id}`,
        instance: request.url,
      });
    }
    return order;
  });

  return app;
}
