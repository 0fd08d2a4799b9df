import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@herald/core/testing';
import { CATALOGUE } from '../src/contracts/index.ts';
import { orderHttp } from '../src/order/http.ts';
import type { OrderView } from '../src/order/service.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { inProcessShop } from './in-process.ts';

describe('shop in one process on memory()', () => {
  let shop: Awaited<ReturnType<typeof inProcessShop>>;
  let app: ReturnType<typeof orderHttp>;
  before(async () => {
    shop = await inProcessShop();
    app = orderHttp(shop.order, silentLogger);
  });
  after(async () => {
    await app.close();
    await shop.close();
  });

  async function place(body: unknown) {
    return app.inject({ method: 'POST', url: '/orders', payload: body as Record<string, unknown> });
  }
  async function settled(orderId: string): Promise<OrderView> {
    let order: OrderView | undefined;
    await waitFor(
      async () => {
        order = await shop.order.getOrder(orderId);
        return order !== undefined && order.status !== 'PENDING';
      },
      15_000,
      `order ${orderId} to settle`,
    );
    return order!;
  }

  it('lists the catalogue at GET /products', async () => {
    const response = await app.inject({ method: 'GET', url: '/products' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(
      response.json(),
      CATALOGUE.map((p) => ({ sku: p.sku, name: p.name, price: p.priceCents / 100 })),
    );
  });

  it('confirms an order that is paid and reserved, and notifies once', async () => {
    const response = await place({
      userId: 'ada',
      items: [
        { sku: 'KB-101', quantity: 2 },
        { sku: 'CB-606', quantity: 1 },
      ],
    });
    assert.equal(response.statusCode, 202);
    const { orderId, status } = response.json<{ orderId: string; status: string }>();
    assert.equal(status, 'PENDING');
    assert.equal(response.headers.location, `/orders/${orderId}`);
    const order = await settled(orderId);
    assert.equal(order.status, 'CONFIRMED');
    assert.equal(order.reason, undefined);
    assert.equal(order.amount, 190);
    assert.deepEqual(order.items, [
      { sku: 'KB-101', name: 'Mechanical keyboard', quantity: 2, price: 89 },
      { sku: 'CB-606', name: 'USB-C cable', quantity: 1, price: 12 },
    ]);
    const types = order.history.map((h) => h.type);
    assert.equal(types[0], 'OrderPlaced');
    assert.ok(types.includes('PaymentCompleted') && types.includes('StockReserved'));
    assert.equal(types.at(-1), 'OrderConfirmed');
    await waitFor(async () =>
      (await shop.notification.store.recent(100)).some((n) => n.orderId === orderId && n.status === 'sent'),
    );
    assert.equal((await shop.notification.store.recent(100)).filter((n) => n.orderId === orderId).length, 1);
    assert.equal((await shop.inventory.store.level('KB-101'))!.reserved, 2);

    const fetched = await app.inject({ method: 'GET', url: `/orders/${orderId}` });
    assert.equal(fetched.statusCode, 200);
    assert.equal(fetched.json<OrderView>().status, 'CONFIRMED');
  });

  it('cancels an order over the payment limit and releases its stock', async () => {
    const response = await place({ userId: 'bob', items: [{ sku: 'LT-404', quantity: 4 }] });
    const { orderId } = response.json<{ orderId: string }>();
    const order = await settled(orderId);
    assert.equal(order.status, 'CANCELLED');
    assert.match(order.reason!, /^payment declined: amount 5996\.00 exceeds the limit of 5000\.00$/);
    await waitFor(
      async () => (await shop.inventory.store.reservation(orderId))?.status === 'released',
      15_000,
      'release',
    );
    assert.equal((await shop.inventory.store.level('LT-404'))!.available, 25);
    assert.equal((await shop.payment.store.ledger()).filter((e) => e.orderId === orderId).length, 0);
  });

  it('cancels an order for more stock than exists and refunds its charge', async () => {
    const response = await place({ userId: 'cy', items: [{ sku: 'LE-707', quantity: 6 }] });
    const { orderId } = response.json<{ orderId: string }>();
    const order = await settled(orderId);
    assert.equal(order.status, 'CANCELLED');
    assert.equal(order.reason, 'out of stock: LE-707 (requested 6, available 5)');
    await waitFor(
      async () => (await shop.payment.store.get(orderId))?.status === 'refunded',
      15_000,
      'refund',
    );
    const ledger = (await shop.payment.store.ledger()).filter((e) => e.orderId === orderId);
    assert.deepEqual(
      ledger.map((e) => [e.kind, e.amountCents]),
      [
        ['charge', 270000],
        ['refund', 270000],
      ],
    );
    await waitFor(async () =>
      (await shop.order.getOrder(orderId))!.history.some((h) => h.type === 'PaymentRefunded'),
    );
  });

  it('answers 400 problem+json naming each bad field, and an unknown sku', async () => {
    const bad = await place({
      userId: '',
      items: [
        { sku: 'KB-101', quantity: 0 },
        { sku: 'KB-101', quantity: 1.5 },
      ],
      extra: 1,
    });
    assert.equal(bad.statusCode, 400);
    assert.match(String(bad.headers['content-type']), /^application\/problem\+json/);
    const problem = bad.json<{ status: number; errors: { field: string }[] }>();
    assert.equal(problem.status, 400);
    assert.deepEqual(problem.errors.map((e) => e.field).sort(), [
      '',
      'items.0.quantity',
      'items.1.quantity',
      'userId',
    ]);

    const unknown = await place({
      userId: 'dee',
      items: [
        { sku: 'KB-101', quantity: 1 },
        { sku: 'NOPE-1', quantity: 1 },
      ],
    });
    assert.equal(unknown.statusCode, 400);
    assert.deepEqual(unknown.json<{ errors: unknown[] }>().errors, [
      { field: 'items.1.sku', message: 'unknown sku "NOPE-1"' },
    ]);

    const notJson = await app.inject({
      method: 'POST',
      url: '/orders',
      headers: { 'content-type': 'application/json' },
      payload: '{"userId":',
    });
    assert.equal(notJson.statusCode, 400);
    assert.match(String(notJson.headers['content-type']), /^application\/problem\+json/);

    for (const body of [
      undefined,
      [],
      { userId: 'x' },
      { userId: 'x', items: [] },
      { userId: 'x', items: 'KB-101' },
    ]) {
      const response = await app.inject({
        method: 'POST',
        url: '/orders',
        ...(body === undefined ? {} : { payload: body }),
      });
      assert.equal(response.statusCode, 400, JSON.stringify(body));
    }
  });

  it('answers 404 for an unknown order id and lists recent orders', async () => {
    const missing = await app.inject({ method: 'GET', url: '/orders/nope' });
    assert.equal(missing.statusCode, 404);
    assert.match(String(missing.headers['content-type']), /^application\/problem\+json/);
    const list = await app.inject({ method: 'GET', url: '/orders?limit=2' });
    assert.equal(list.statusCode, 200);
    assert.equal(list.json<unknown[]>().length, 2);
    assert.equal((await app.inject({ method: 'GET', url: '/orders?limit=0' })).statusCode, 400);
    const health = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    assert.equal(health.json<{ status: string }>().status, 'ok');
  });
});
