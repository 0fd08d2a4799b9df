/**
 * The saga settles an order once (issue 13, item 6): an `OrderCancelled` for an order it confirmed, even one
 * carrying the order service's own `source`, refunds nothing, releases nothing and sends no second notice; an
 * `OrderConfirmed` for an order it cancelled sends no confirmation; refunds and releases for an order that was
 * not cancelled leave it as it is. Each refusal is logged and counted (`herald_events_skipped_total`), and the
 * services go on handling new orders.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerMessagingMetrics, type DeliveryLabels } from '@herald/core';
import { waitFor } from '@herald/core/testing';
import {
  OrderCancelled,
  OrderConfirmed,
  PaymentRefunded,
  SERVICES,
  StockReleased,
} from '../src/contracts/index.ts';
import type { OrderView } from '../src/order/service.ts';
import { inProcessShop, publisherAs } from './in-process.ts';

interface Counted extends DeliveryLabels {
  readonly reason: string;
}

/** A metrics backend that records what it is told (only skips and dead letters matter here). */
function recordingMetrics() {
  const skipped: Counted[] = [];
  const deadLettered: Counted[] = [];
  const unregister = registerMessagingMetrics({
    published: () => undefined,
    processed: () => undefined,
    failed: () => undefined,
    retried: () => undefined,
    deadLettered: (labels, reason) => deadLettered.push({ ...labels, reason }),
    skipped: (labels, reason) => skipped.push({ ...labels, reason }),
    handlerDuration: () => undefined,
  });
  return { skipped, deadLettered, unregister };
}

const DEADLINE_MS = 20_000;

describe('the saga settles an order once', () => {
  let shop: Awaited<ReturnType<typeof inProcessShop>>;
  let metrics: ReturnType<typeof recordingMetrics>;
  before(async () => {
    metrics = recordingMetrics();
    shop = await inProcessShop();
  });
  after(async () => {
    await shop.close();
    metrics.unregister();
  });

  async function settledOrder(orderId: string): Promise<OrderView> {
    let order: OrderView | undefined;
    await waitFor(
      async () => {
        order = await shop.order.getOrder(orderId);
        return order !== undefined && order.status !== 'PENDING';
      },
      DEADLINE_MS,
      `order ${orderId} to settle`,
    );
    return order!;
  }

  async function noticesOf(orderId: string) {
    return (await shop.notification.store.recent(1000)).filter((n) => n.orderId === orderId);
  }

  /** Waits until each of `groups` has counted a refusal of `type` for `reason`; returns them. */
  async function refusedBy(type: string, reason: string, groups: readonly string[]): Promise<Counted[]> {
    const matching = () => metrics.skipped.filter((s) => s.type === type && s.reason === reason);
    await waitFor(
      () => groups.every((group) => matching().some((s) => s.group === group)),
      DEADLINE_MS,
      `${type} refused (${reason}) by ${groups.join(', ')}`,
    );
    return matching();
  }

  it('refuses a cancellation of a confirmed order, even from the order service source', async () => {
    const placed = await shop.order.placeOrder({ userId: 'ada', items: [{ sku: 'KB-101', quantity: 2 }] });
    const order = await settledOrder(placed.orderId);
    assert.equal(order.status, 'CONFIRMED');
    await waitFor(
      async () => (await noticesOf(order.orderId)).some((n) => n.status === 'sent'),
      DEADLINE_MS,
      'the confirmation notice',
    );
    const reservedBefore = (await shop.inventory.store.level('KB-101'))!.reserved;

    // A writer of the log that forges the order service's source as well.
    const forger = publisherAs(shop.transport, SERVICES.order.source);
    await forger.publish(OrderCancelled, {
      orderId: order.orderId,
      userId: 'ada',
      amountCents: 17_800,
      reason: 'forged',
    });
    const refused = await refusedBy('OrderCancelled', 'order-settled', [
      SERVICES.payment.group,
      SERVICES.inventory.group,
      SERVICES.notification.group,
    ]);
    assert.ok(refused.every((r) => r.topic === 'orders'));

    assert.deepEqual(
      (await shop.payment.store.ledger()).filter((e) => e.orderId === order.orderId).map((e) => e.kind),
      ['charge'],
    );
    assert.equal((await shop.payment.store.get(order.orderId))!.status, 'charged');
    assert.equal((await shop.inventory.store.reservation(order.orderId))!.status, 'reserved');
    assert.equal((await shop.inventory.store.level('KB-101'))!.reserved, reservedBefore);
    assert.deepEqual(
      (await noticesOf(order.orderId)).map((n) => n.outcome),
      ['confirmed'],
    );
    const after = (await shop.order.getOrder(order.orderId))!;
    assert.equal(after.status, 'CONFIRMED');
    assert.deepEqual(
      after.history.map((h) => h.type).filter((t) => t === 'PaymentRefunded' || t === 'StockReleased'),
      [],
    );
    assert.deepEqual(metrics.deadLettered, []);
  });

  it('refuses a confirmation notice for a cancelled order', async () => {
    // Four laptops are over the payment limit: declined, so the saga cancels.
    const placed = await shop.order.placeOrder({ userId: 'bob', items: [{ sku: 'LT-404', quantity: 4 }] });
    const order = await settledOrder(placed.orderId);
    assert.equal(order.status, 'CANCELLED');
    await waitFor(
      async () => (await noticesOf(order.orderId)).some((n) => n.status === 'sent'),
      DEADLINE_MS,
      'the cancellation notice',
    );
    await publisherAs(shop.transport, SERVICES.order.source).publish(OrderConfirmed, {
      orderId: order.orderId,
      userId: 'bob',
      amountCents: order.amount * 100,
    });
    await refusedBy('OrderConfirmed', 'order-settled', [
      SERVICES.payment.group,
      SERVICES.inventory.group,
      SERVICES.notification.group,
    ]);
    assert.deepEqual(
      (await noticesOf(order.orderId)).map((n) => n.outcome),
      ['cancelled'],
    );
  });

  it('leaves a confirmed order alone when a refund or release arrives for it', async () => {
    const placed = await shop.order.placeOrder({ userId: 'cy', items: [{ sku: 'MS-202', quantity: 1 }] });
    const order = await settledOrder(placed.orderId);
    assert.equal(order.status, 'CONFIRMED');
    await publisherAs(shop.transport, SERVICES.payment.source).publish(PaymentRefunded, {
      orderId: order.orderId,
      paymentId: 'forged',
      amountCents: 2900,
    });
    await publisherAs(shop.transport, SERVICES.inventory.source).publish(StockReleased, {
      orderId: order.orderId,
      items: [{ sku: 'MS-202', quantity: 1 }],
    });
    await refusedBy('PaymentRefunded', 'order-settled', [SERVICES.order.group]);
    await refusedBy('StockReleased', 'order-settled', [SERVICES.order.group]);
    const after = (await shop.order.getOrder(order.orderId))!;
    assert.equal(after.status, 'CONFIRMED');
    assert.deepEqual(after.history, order.history);
    const record = (await shop.order.store.get(order.orderId))!;
    assert.deepEqual([record.payment, record.stock], ['completed', 'reserved']);
  });

  it('counts an outcome from another source as untrusted, and keeps handling new orders', async () => {
    const placed = await shop.order.placeOrder({ userId: 'di', items: [{ sku: 'CB-606', quantity: 1 }] });
    const order = await settledOrder(placed.orderId);
    await publisherAs(shop.transport, '/mallory').publish(OrderCancelled, {
      orderId: order.orderId,
      userId: 'di',
      amountCents: 1200,
      reason: 'forged',
    });
    await refusedBy('OrderCancelled', 'untrusted-source', [
      SERVICES.payment.group,
      SERVICES.inventory.group,
      SERVICES.notification.group,
    ]);
    const next = await shop.order.placeOrder({ userId: 'di', items: [{ sku: 'CB-606', quantity: 1 }] });
    assert.equal((await settledOrder(next.orderId)).status, 'CONFIRMED');
    assert.equal(metrics.skipped.filter((s) => s.reason === 'untrusted-source').length, 3);
    assert.deepEqual(metrics.deadLettered, []);
  });
});
