import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DELIVER_AT_ATTRIBUTE, memory, type Transport } from '@herald/core';
import { waitFor } from '@herald/core/testing';
import { PaymentCompleted, SERVICES, StockReserved } from '../src/contracts/index.ts';
import { paymentDeadlineFrom } from '../src/runtime/config.ts';
import {
  closeTestDatabase,
  makeInventory,
  makeNotification,
  makeOrder,
  makePayment,
  observe,
  publisherAs,
  testDatabase,
} from './in-process.ts';

// Issue 12 item 3 in the shop: an order left unpaid past its payment deadline is cancelled. The deadline is a
// scheduled event (`PaymentDeadlineReached`, `deliverAt` = placed + deadline) written with the order in one
// transaction and held by the order service's outbox until due; it reaches the order service whatever the payment
// service does meanwhile.

const DEADLINE_MS = 600;
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

/** The order service alone on a memory transport, with a short deadline; the test plays the other services. */
async function orderAlone(transport: Transport = memory()) {
  const database = testDatabase();
  const order = await makeOrder(transport, database, { paymentDeadlineMs: DEADLINE_MS });
  const watched = observe(transport, ['orders', 'order-deadlines']);
  await order.start();
  await watched.subscription.ready;
  closers.push(async () => {
    await watched.subscription.close();
    await order.close();
    await transport.close();
    closeTestDatabase(database);
  });
  return { order, watched, transport };
}

describe('payment deadline', () => {
  it('cancels an order still unpaid at its deadline, not before', async () => {
    const { order, watched, transport } = await orderAlone();
    const inventory = publisherAs(transport, SERVICES.inventory.source);
    const placedAt = Date.now();
    const { orderId } = await order.placeOrder({ userId: 'ada', items: [{ sku: 'KB-101', quantity: 1 }] });
    await inventory.publish(StockReserved, { orderId, items: [{ sku: 'KB-101', quantity: 1 }] });
    await waitFor(
      async () => (await order.getOrder(orderId))?.status === 'CANCELLED',
      DEADLINE_MS + 10_000,
      'the unpaid order cancelled',
    );
    const view = (await order.getOrder(orderId))!;
    assert.match(view.reason ?? '', /^payment deadline passed: not paid within 0\.6 s/);
    const deadlineEvent = watched.events.find((e) => e.type === 'PaymentDeadlineReached');
    assert.ok(deadlineEvent, 'the deadline event was relayed');
    const due = Date.parse(deadlineEvent.extensions![DELIVER_AT_ATTRIBUTE]!);
    assert.ok(due >= placedAt + DEADLINE_MS, 'due at placed + the deadline');
    // Relayed from the outbox after the cancelling transaction commits.
    await waitFor(
      () => watched.events.some((e) => e.type === 'OrderCancelled'),
      10_000,
      'OrderCancelled emitted, so payment and inventory compensate',
    );
    const cancelled = watched.events.find((e) => e.type === 'OrderCancelled')!;
    assert.ok(
      Date.parse(cancelled.time) >= due,
      `cancelled at ${cancelled.time}, not before the deadline ${new Date(due).toISOString()}`,
    );
    assert.deepEqual(
      view.history.map((h) => h.type),
      ['OrderPlaced', 'StockReserved', 'PaymentDeadlineReached', 'OrderCancelled'],
    );
  });

  it('leaves an order paid before its deadline alone when the deadline arrives', async () => {
    const { order, watched, transport } = await orderAlone();
    const payment = publisherAs(transport, SERVICES.payment.source);
    const inventory = publisherAs(transport, SERVICES.inventory.source);
    const { orderId } = await order.placeOrder({ userId: 'ada', items: [{ sku: 'KB-101', quantity: 1 }] });
    await payment.publish(PaymentCompleted, { orderId, amountCents: 4999, paymentId: 'p1' });
    await inventory.publish(StockReserved, { orderId, items: [{ sku: 'KB-101', quantity: 1 }] });
    await waitFor(
      async () => (await order.getOrder(orderId))?.status === 'CONFIRMED',
      10_000,
      'the order confirmed',
    );
    await waitFor(
      () => watched.events.some((e) => e.type === 'PaymentDeadlineReached'),
      DEADLINE_MS + 10_000,
      'the deadline event relayed',
    );
    // The order service handles it right after it is relayed; give it that moment, then look.
    await waitFor(
      async () => (await order.storage.pending()) === 0,
      5000,
      'the outbox drained after the deadline',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const view = (await order.getOrder(orderId))!;
    assert.equal(view.status, 'CONFIRMED');
    assert.equal(view.history.filter((h) => h.type === 'PaymentDeadlineReached').length, 0);
    assert.equal(watched.events.filter((e) => e.type === 'OrderCancelled').length, 0, 'nothing cancelled');
  });

  it('compensates end to end when the payment service comes back after the deadline', async () => {
    const transport = memory();
    const databases = [testDatabase(), testDatabase(), testDatabase(), testDatabase()] as const;
    const order = await makeOrder(transport, databases[0], { paymentDeadlineMs: DEADLINE_MS });
    const inventory = await makeInventory(transport, databases[2]);
    const notification = await makeNotification(transport, {}, databases[3]);
    const running: { start(): Promise<void>; close(): Promise<void> }[] = [order, inventory, notification];
    await Promise.all(running.map((s) => s.start()));
    closers.push(async () => {
      await Promise.all(running.map((s) => s.close()));
      await transport.close();
      for (const database of databases) closeTestDatabase(database);
    });
    const { orderId } = await order.placeOrder({ userId: 'ada', items: [{ sku: 'KB-101', quantity: 2 }] });
    await waitFor(
      async () => (await order.getOrder(orderId))?.status === 'CANCELLED',
      DEADLINE_MS + 10_000,
      'cancelled at the deadline while payment is down',
    );
    // Payment comes back: it charges the order it missed, then refunds it on OrderCancelled.
    const payment = await makePayment(transport, undefined, databases[1]);
    running.push(payment);
    await payment.start();
    await waitFor(
      async () => (await order.getOrder(orderId))?.history.some((h) => h.type === 'PaymentRefunded') === true,
      10_000,
      'the late charge refunded',
    );
    await waitFor(
      async () => (await order.getOrder(orderId))?.history.some((h) => h.type === 'StockReleased') === true,
      10_000,
      'the reservation released',
    );
    const view = (await order.getOrder(orderId))!;
    assert.equal(view.status, 'CANCELLED');
    assert.match(view.reason ?? '', /^payment deadline passed/);
  });

  it('reads ORDER_PAYMENT_DEADLINE_MS, refusing what is not a sane duration', () => {
    assert.equal(paymentDeadlineFrom({}), 15 * 60_000);
    assert.equal(paymentDeadlineFrom({ ORDER_PAYMENT_DEADLINE_MS: '1500' }), 1500);
    for (const bad of ['0', '99', '1.5', '-5', 'soon', '9999999999999']) {
      assert.throws(() => paymentDeadlineFrom({ ORDER_PAYMENT_DEADLINE_MS: bad }), {
        code: 'HERALD_CONFIG',
        message: /ORDER_PAYMENT_DEADLINE_MS/,
      });
    }
  });
});
