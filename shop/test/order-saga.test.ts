import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { memory, type CloudEvent, type Transport } from '@herald/core';
import { waitFor } from '@herald/core/testing';
import {
  PaymentCompleted,
  PaymentFailed,
  PaymentRefunded,
  SERVICES,
  StockReleased,
  StockReserved,
  StockUnavailable,
} from '../src/contracts/index.ts';
import { makeOrder, observe, publisherAs } from './in-process.ts';

/** The order service alone: the test plays payment and inventory, in any order. */
async function orderAlone() {
  const transport: Transport = memory();
  const order = await makeOrder(transport);
  const watched = observe(transport, ['orders']);
  await order.start();
  await watched.subscription.ready;
  const payment = publisherAs(transport, SERVICES.payment.source);
  const inventory = publisherAs(transport, SERVICES.inventory.source);
  const placed = await order.placeOrder({ userId: 'ada', items: [{ sku: 'KB-101', quantity: 1 }] });
  const { orderId } = placed;
  await waitFor(() => watched.events.some((e) => e.type === 'OrderPlaced'), 5000, 'OrderPlaced relayed');
  const orderEvents = (type: string) =>
    watched.events.filter((e) => e.type === type && (e.data as { orderId: string }).orderId === orderId);
  const view = async () => (await order.getOrder(orderId))!;
  const historyOf = async (type: string) => (await view()).history.filter((h) => h.type === type);
  return {
    order,
    orderId,
    payment,
    inventory,
    orderEvents,
    view,
    historyOf,
    placedEvent: watched.events.find((e) => e.type === 'OrderPlaced')!,
    async close() {
      await watched.subscription.close();
      await order.close();
      await transport.close();
    },
  };
}

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

async function setup() {
  const t = await orderAlone();
  closers.push(() => t.close());
  return t;
}

describe('order saga', () => {
  it('confirms only when both paid and reserved, in either order, and emits OrderConfirmed once', async () => {
    const t = await setup();
    await t.inventory.publish(StockReserved, { orderId: t.orderId, items: [{ sku: 'KB-101', quantity: 1 }] });
    await waitFor(async () => (await t.historyOf('StockReserved')).length === 1);
    assert.equal((await t.view()).status, 'PENDING', 'reserved but not paid yet');
    const paid = await t.payment.publish(PaymentCompleted, {
      orderId: t.orderId,
      paymentId: 'p1',
      amountCents: 8900,
    });
    await waitFor(async () => (await t.view()).status === 'CONFIRMED');
    // The same event again (a redelivery) changes nothing.
    await t.payment.publish(
      PaymentCompleted,
      { orderId: t.orderId, paymentId: 'p1', amountCents: 8900 },
      { id: paid.id },
    );
    await waitFor(() => t.orderEvents('OrderConfirmed').length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await t.historyOf('PaymentCompleted')).length, 1);
    assert.equal(t.orderEvents('OrderConfirmed').length, 1);
    const confirmed = t.orderEvents('OrderConfirmed')[0]!;
    assert.equal(confirmed.causationid, paid.id, 'caused by the event that completed the saga');
    assert.equal(confirmed.correlationid, paid.correlationid);
  });

  it('cancels on StockUnavailable and stays cancelled when PaymentCompleted arrives later (payment then refunds)', async () => {
    const t = await setup();
    const reason = 'out of stock: KB-101 (requested 1, available 0)';
    await t.inventory.publish(StockUnavailable, {
      orderId: t.orderId,
      reason,
      shortages: [{ sku: 'KB-101', requested: 1, available: 0 }],
    });
    await waitFor(async () => (await t.view()).status === 'CANCELLED');
    await t.payment.publish(PaymentCompleted, { orderId: t.orderId, paymentId: 'p1', amountCents: 8900 });
    await waitFor(async () => (await t.historyOf('PaymentCompleted')).length === 1);
    const order = await t.view();
    assert.equal(order.status, 'CANCELLED');
    assert.equal(order.reason, reason);
    assert.equal(
      (await t.order.store.get(t.orderId))!.payment,
      'completed',
      'the charge is known, so the refund is expected',
    );
    // The cancellation leaves through the outbox relay: wait until it is on the topic, not just in the state.
    await waitFor(() => t.orderEvents('OrderCancelled').length >= 1);
    const cancelled = t.orderEvents('OrderCancelled');
    assert.equal(cancelled.length, 1);
    assert.equal((cancelled[0] as CloudEvent<{ reason: string }>).data.reason, reason);
    await t.payment.publish(PaymentRefunded, { orderId: t.orderId, paymentId: 'p1', amountCents: 8900 });
    await waitFor(async () => (await t.order.store.get(t.orderId))!.payment === 'refunded');
  });

  it('keeps the first failure as the reason when both sides fail', async () => {
    const t = await setup();
    await t.payment.publish(PaymentFailed, {
      orderId: t.orderId,
      amountCents: 8900,
      reason: 'payment declined: test',
    });
    await waitFor(async () => (await t.view()).status === 'CANCELLED');
    // The cancellation leaves through the outbox relay: wait until it is on the topic, not just in the state.
    await waitFor(() => t.orderEvents('OrderCancelled').length === 1);
    await t.inventory.publish(StockUnavailable, {
      orderId: t.orderId,
      reason: 'out of stock: test',
      shortages: [],
    });
    await waitFor(async () => (await t.historyOf('StockUnavailable')).length === 1);
    // A second cancellation would be in the outbox with that history row: once the outbox is empty and the
    // consumer had time to see what it relayed, the count is final.
    await waitFor(async () => (await t.order.storage.backlog()).pending === 0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await t.view()).reason, 'payment declined: test');
    assert.equal(t.orderEvents('OrderCancelled').length, 1);
  });

  it('cancels on payment failure after stock was reserved; the release shows in the history', async () => {
    const t = await setup();
    await t.inventory.publish(StockReserved, { orderId: t.orderId, items: [{ sku: 'KB-101', quantity: 1 }] });
    await t.payment.publish(PaymentFailed, {
      orderId: t.orderId,
      amountCents: 8900,
      reason: 'payment declined: test',
    });
    await waitFor(async () => (await t.view()).status === 'CANCELLED');
    await t.inventory.publish(StockReleased, { orderId: t.orderId, items: [{ sku: 'KB-101', quantity: 1 }] });
    await waitFor(async () => (await t.order.store.get(t.orderId))!.stock === 'released');
    assert.deepEqual(
      (await t.view()).history.map((h) => h.type),
      ['OrderPlaced', 'StockReserved', 'PaymentFailed', 'OrderCancelled', 'StockReleased'],
    );
  });

  it('starts each order as its own flow: OrderPlaced correlates to itself', async () => {
    const t = await setup();
    assert.equal(t.placedEvent.correlationid, t.placedEvent.id);
    assert.equal(t.placedEvent.partitionkey, t.orderId);
  });
});
