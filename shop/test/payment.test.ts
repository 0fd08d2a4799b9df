import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { memory, type Transport } from '@herald/core';
import { waitFor } from '@herald/core/testing';
import { OrderCancelled, OrderPlaced, SERVICES } from '../src/contracts/index.ts';
import { DEFAULT_LIMIT_CENTS, paymentLimitFrom } from '../src/payment/service.ts';
import { makePayment, observe, publisherAs } from './in-process.ts';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

async function setup(limitCents?: number, options: { acceptPlainJson?: boolean } = {}) {
  const transport: Transport = memory();
  const payment = await makePayment(transport, limitCents, undefined, options);
  const watched = observe(transport, ['payments']);
  await payment.start();
  await watched.subscription.ready;
  closers.push(async () => {
    await watched.subscription.close();
    await payment.close();
    await transport.close();
  });
  const orders = publisherAs(transport, SERVICES.order.source);
  const placed = (orderId: string, amountCents: number) => ({
    orderId,
    userId: 'ada',
    items: [{ sku: 'KB-101', quantity: 1, unitPriceCents: amountCents }],
    amountCents,
  });
  const cancelled = (orderId: string, amountCents: number) => ({
    orderId,
    userId: 'ada',
    amountCents,
    reason: 'test',
  });
  const types = (orderId: string) =>
    watched.events.filter((e) => (e.data as { orderId: string }).orderId === orderId).map((e) => e.type);
  return { transport, payment, orders, placed, cancelled, types };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 60));

describe('payment service', () => {
  it('charges at most once per order, even for a duplicate OrderPlaced with a new id', async () => {
    const t = await setup();
    const first = await t.orders.publish(OrderPlaced, t.placed('o-1', 10_000));
    await t.orders.publish(OrderPlaced, t.placed('o-1', 10_000), { id: first.id });
    await t.orders.publish(OrderPlaced, t.placed('o-1', 10_000));
    await waitFor(() => t.types('o-1').length >= 1);
    await settle();
    assert.deepEqual(t.types('o-1'), ['PaymentCompleted']);
    assert.deepEqual(
      (await t.payment.store.ledger()).map((e) => [e.orderId, e.kind]),
      [['o-1', 'charge']],
    );
  });

  it('declines deterministically over the limit (integer cents, the limit itself passes)', async () => {
    const t = await setup(500_000);
    await t.orders.publish(OrderPlaced, t.placed('at-limit', 500_000));
    await t.orders.publish(OrderPlaced, t.placed('over', 500_001));
    await waitFor(() => t.types('at-limit').length === 1 && t.types('over').length === 1);
    assert.deepEqual(t.types('at-limit'), ['PaymentCompleted']);
    assert.deepEqual(t.types('over'), ['PaymentFailed']);
    assert.equal(
      (await t.payment.store.get('over'))!.reason,
      'payment declined: amount 5000.01 exceeds the limit of 5000.00',
    );
  });

  it('refunds a charge once on cancellation, and nothing for a declined payment', async () => {
    const t = await setup(500_000);
    await t.orders.publish(OrderPlaced, t.placed('o-2', 1000));
    await t.orders.publish(OrderPlaced, t.placed('o-3', 600_000));
    const cancel = await t.orders.publish(OrderCancelled, t.cancelled('o-2', 1000));
    await t.orders.publish(OrderCancelled, t.cancelled('o-2', 1000), { id: cancel.id });
    await t.orders.publish(OrderCancelled, t.cancelled('o-2', 1000));
    await t.orders.publish(OrderCancelled, t.cancelled('o-3', 600_000));
    await waitFor(() => t.types('o-2').length >= 2);
    await settle();
    assert.deepEqual(t.types('o-2'), ['PaymentCompleted', 'PaymentRefunded']);
    assert.deepEqual(t.types('o-3'), ['PaymentFailed']);
    assert.deepEqual(
      (await t.payment.store.ledger()).map((e) => [e.orderId, e.kind, e.amountCents]),
      [
        ['o-2', 'charge', 1000],
        ['o-2', 'refund', 1000],
      ],
    );
  });

  it('never charges an order cancelled before payment saw it', async () => {
    const t = await setup();
    await t.orders.publish(OrderCancelled, t.cancelled('o-4', 1000));
    await waitFor(async () => (await t.payment.store.get('o-4'))?.status === 'cancelled');
    await t.orders.publish(OrderPlaced, t.placed('o-4', 1000));
    await settle();
    assert.deepEqual(t.types('o-4'), []);
    assert.equal((await t.payment.store.ledger()).length, 0);
  });

  it("charges an order a plain client published in the seed's shape, when opted in: decimal amount, no items", async () => {
    const t = await setup(undefined, { acceptPlainJson: true });
    const plain = (orderId: string, amount: unknown) => ({
      topic: 'orders',
      key: orderId,
      attributes: {},
      data: new TextEncoder().encode(
        JSON.stringify({ event: 'OrderPlaced', data: { orderId, userId: '456', amount } }),
      ),
    });
    await t.transport.publish([plain('seed-1', 100), plain('seed-2', 99.95), plain('seed-3', 1.234)]);
    // The same bytes again (a client's retry): the content-derived id makes it the same event.
    await t.transport.publish([plain('seed-1', 100)]);
    await waitFor(() => t.types('seed-1').length === 1 && t.types('seed-2').length === 1);
    await settle();
    assert.deepEqual((await t.payment.store.ledger()).map((e) => [e.orderId, e.kind, e.amountCents]).sort(), [
      ['seed-1', 'charge', 10_000],
      ['seed-2', 'charge', 9995],
    ]);
    assert.deepEqual(t.types('seed-3'), [], 'an amount with three decimals is refused (dead-lettered)');
  });

  it('ignores an OrderCancelled that does not come from the order service: no refund of a charge', async () => {
    const t = await setup();
    await t.orders.publish(OrderPlaced, t.placed('o-forged', 10_000));
    await waitFor(() => t.types('o-forged').length >= 1);
    const mallory = publisherAs(t.transport, '/mallory');
    await mallory.publish(OrderCancelled, t.cancelled('o-forged', 10_000));
    // A later genuine event is handled, so the forged one was seen (and ignored) before it.
    await t.orders.publish(OrderPlaced, t.placed('o-after', 10_000));
    await waitFor(() => t.types('o-after').length >= 1);
    await settle();
    assert.deepEqual(t.types('o-forged'), ['PaymentCompleted']);
    assert.deepEqual(
      (await t.payment.store.ledger()).filter((e) => e.orderId === 'o-forged').map((e) => e.kind),
      ['charge'],
    );
    await t.orders.publish(OrderCancelled, t.cancelled('o-forged', 10_000));
    await waitFor(() => t.types('o-forged').length >= 2);
    assert.deepEqual(t.types('o-forged'), ['PaymentCompleted', 'PaymentRefunded']);
  });

  it('reads PAYMENT_LIMIT as a decimal amount', () => {
    assert.equal(paymentLimitFrom({}), DEFAULT_LIMIT_CENTS);
    assert.equal(paymentLimitFrom({ PAYMENT_LIMIT: '5000.00' }), 500_000);
    assert.equal(paymentLimitFrom({ PAYMENT_LIMIT: '12.5' }), 1250);
    assert.equal(paymentLimitFrom({ PAYMENT_LIMIT: '0.07' }), 7);
    for (const bad of ['-1', '1.234', 'lots', '1e3']) {
      assert.throws(() => paymentLimitFrom({ PAYMENT_LIMIT: bad }), { code: 'HERALD_CONFIG' }, bad);
    }
  });
});
