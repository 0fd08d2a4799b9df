import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkIdempotent,
  checkOrderSafe,
  IDEMPOTENCY_FAULTS,
  waitFor,
  type FaultyTransport,
} from '@herald/core/testing';
import type { Notification } from '../src/notification/store.ts';
import {
  closeTestDatabase,
  makeInventory,
  makeNotification,
  makeOrder,
  makePayment,
  testDatabase,
} from './in-process.ts';

/** Payment declines above this; the orders below include some over it, so compensation runs too. */
const LIMIT_CENTS = 500_000;
/** Eight orders with outcomes that do not depend on each other (no two compete for the same stock). */
const ORDERS = [
  [{ sku: 'KB-101', quantity: 1 }],
  [
    { sku: 'MS-202', quantity: 2 },
    { sku: 'CB-606', quantity: 3 },
  ],
  [{ sku: 'LT-404', quantity: 4 }], // declined: over the payment limit, stock released
  [{ sku: 'LE-707', quantity: 6 }], // stock unavailable: payment refunded
  [{ sku: 'MN-303', quantity: 1 }],
  [
    { sku: 'HP-505', quantity: 1 },
    { sku: 'KB-101', quantity: 1 },
  ],
  [
    { sku: 'MN-303', quantity: 2 },
    { sku: 'LT-404', quantity: 3 },
  ], // declined
  [{ sku: 'CB-606', quantity: 1 }],
];

/**
 * The whole shop in this process on the kit's transport: eight orders placed over the order service's API, run
 * to their end; the outcome every service agrees on, by order number (ids differ between runs): each order's
 * status and the events it saw, stock per SKU, the ledger, the notifications stored and the ones sent.
 */
async function shopRun(transport: FaultyTransport) {
  const sent: Notification[] = [];
  const databases = [testDatabase(), testDatabase(), testDatabase(), testDatabase()];
  const services = [
    await makeOrder(transport, databases[0]),
    await makePayment(transport, LIMIT_CENTS, databases[1]),
    await makeInventory(transport, databases[2]),
    await makeNotification(
      transport,
      {
        sender: {
          channel: 'test',
          send: (notification) => {
            sent.push(notification);
            return Promise.resolve();
          },
        },
      },
      databases[3],
    ),
  ] as const;
  const [order, payment, inventory, notification] = services;
  await Promise.all(services.map((s) => s.start()));
  try {
    const ids: string[] = [];
    for (const [index, items] of ORDERS.entries()) {
      ids.push((await order.placeOrder({ userId: `user-${index}`, items })).orderId);
    }
    const number = (orderId: string) => ids.indexOf(orderId);
    await waitFor(
      async () => {
        for (const id of ids) if ((await order.getOrder(id))?.status === 'PENDING') return false;
        return true;
      },
      30_000,
      'every order final',
    );
    const outcome = async () => ({
      orders: await Promise.all(
        ids.map(async (id) => {
          const view = (await order.getOrder(id))!;
          return { status: view.status, events: view.history.map((h) => h.type).sort() };
        }),
      ),
      stock: (await inventory.store.levels()).map(({ sku, available, reserved }) => ({
        sku,
        available,
        reserved,
      })),
      ledger: (await payment.store.ledger())
        .map((entry) => `${number(entry.orderId)} ${entry.kind} ${entry.amountCents}`)
        .sort(),
      notifications: (await notification.store.recent(1000))
        .map((n) => `${number(n.orderId)} ${n.outcome} ${n.status}`)
        .sort(),
      sent: sent.map((n) => `${number(n.orderId)} ${n.outcome}`).sort(),
    });
    // Compensations and notifications follow the final status. Done when every outbox is empty, the kit has
    // been quiet for a spell, and two such reads agree.
    const outboxesEmpty = async () =>
      (await Promise.all(services.map((s) => s.health()))).every((h) => h.outbox.pending === 0);
    let previous: unknown;
    for (;;) {
      await waitFor(outboxesEmpty, 30_000, 'every outbox relayed');
      await transport.quiet({ quietMs: 250, timeoutMs: 30_000 });
      const current = await outcome();
      if (JSON.stringify(current) === JSON.stringify(previous) && (await outboxesEmpty())) return current;
      previous = current;
    }
  } finally {
    await Promise.all(services.map((s) => s.close()));
    await transport.close();
    for (const database of databases) closeTestDatabase(database);
  }
}

describe("the shop's real handlers under the fault-injection kit", () => {
  it('give the fault-free outcome under duplicates, crashes before acks, failed acks and lost publish acks', async () => {
    const report = await checkIdempotent(shopRun, {
      seed: 1,
      runs: 3,
      faults: { ...IDEMPOTENCY_FAULTS, publishError: 0.1, publishLostAck: 0.1 },
    });
    assert.ok(
      report.injected.duplicate > 0 && report.injected['crash-before-ack'] > 0,
      JSON.stringify(report),
    );
    assert.ok(report.injected['publish-lost-ack'] > 0, JSON.stringify(report));
  });

  it('give the fault-free outcome however the orders interleave', async () => {
    const report = await checkOrderSafe(shopRun, { seed: 1, runs: 2 });
    assert.ok(report.injected.reorder > 0, JSON.stringify(report));
  });

  it('the fault-free outcome is the one the shop promises', async () => {
    // The baseline the checks compare with is itself checked, so two equally wrong runs cannot pass.
    const { withFaults } = await import('@herald/core/testing');
    const { memory } = await import('@herald/core');
    const outcome = await shopRun(withFaults(memory()));
    assert.deepEqual(
      outcome.orders.map((o) => o.status),
      [
        'CONFIRMED',
        'CONFIRMED',
        'CANCELLED',
        'CANCELLED',
        'CONFIRMED',
        'CONFIRMED',
        'CANCELLED',
        'CONFIRMED',
      ],
    );
    assert.equal(outcome.sent.length, ORDERS.length, 'one notification sent per order');
    assert.ok(
      outcome.ledger.some((line) => line.startsWith('3 refund')),
      'the unavailable order was refunded',
    );
    const stock = Object.fromEntries(outcome.stock.map((s) => [s.sku, s]));
    assert.equal(stock['LT-404']!.reserved, 0, 'declined orders released their stock');
    assert.equal(stock['LE-707']!.available, 5, 'nothing reserved for the unavailable order');
  });
});
