import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { memory, type Transport } from '@herald/core';
import { waitFor } from '@herald/core/testing';
import { OrderCancelled, OrderConfirmed, SERVICES } from '../src/contracts/index.ts';
import { notificationService } from '../src/notification/service.ts';
import type { NotificationSender } from '../src/notification/sender.ts';
import type { Notification } from '../src/notification/store.ts';
import { closeTestDatabase, makeNotification, observe, publisherAs, testDatabase } from './in-process.ts';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

function recordingSender(failures = 0): NotificationSender & { sent: Notification[]; calls: number } {
  const sender = {
    channel: 'test',
    sent: [] as Notification[],
    calls: 0,
    send(notification: Notification) {
      sender.calls++;
      if (sender.calls <= failures) return Promise.reject(new Error('provider down'));
      sender.sent.push(notification);
      return Promise.resolve();
    },
  };
  return sender;
}

async function setup(sender: NotificationSender, sendAttempts = 3) {
  const transport: Transport = memory();
  const service = await makeNotification(transport, { sender, sendAttempts });
  const watched = observe(transport, ['notifications']);
  await service.start();
  await watched.subscription.ready;
  closers.push(async () => {
    await watched.subscription.close();
    await service.close();
    await transport.close();
  });
  return {
    service,
    orders: publisherAs(transport, SERVICES.order.source),
    mallory: publisherAs(transport, '/mallory'),
    events: watched.events,
  };
}

describe('notification service', () => {
  it('sends nothing for an OrderConfirmed or OrderCancelled that does not come from the order service', async () => {
    const sender = recordingSender();
    const t = await setup(sender);
    await t.mallory.publish(OrderConfirmed, { orderId: 'o-f', userId: 'ada', amountCents: 100 });
    await t.mallory.publish(OrderCancelled, {
      orderId: 'o-f',
      userId: 'ada',
      amountCents: 100,
      reason: 'forged',
    });
    await t.orders.publish(OrderConfirmed, { orderId: 'o-real', userId: 'ada', amountCents: 100 });
    await waitFor(() => sender.sent.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(
      sender.sent.map((n) => n.orderId),
      ['o-real'],
    );
  });

  it('sends at most one notification per order and outcome, through the pluggable sender', async () => {
    const sender = recordingSender();
    const t = await setup(sender);
    const confirmed = await t.orders.publish(OrderConfirmed, {
      orderId: 'o-1',
      userId: 'ada',
      amountCents: 8900,
    });
    await t.orders.publish(OrderConfirmed, confirmed.data, { id: confirmed.id });
    await t.orders.publish(OrderConfirmed, confirmed.data);
    await t.orders.publish(OrderCancelled, {
      orderId: 'o-2',
      userId: 'bob',
      amountCents: 100,
      reason: 'out of stock: x',
    });
    await waitFor(() => t.events.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 60));
    // Different orders are handled concurrently: compare them in order of id.
    const delivered = [...sender.sent].sort((a, b) => a.orderId.localeCompare(b.orderId));
    assert.deepEqual(
      delivered.map((n) => [n.orderId, n.outcome]),
      [
        ['o-1', 'confirmed'],
        ['o-2', 'cancelled'],
      ],
    );
    assert.match(delivered[1]!.message, /cancelled: out of stock: x/);
    assert.equal(t.events.length, 2);
    const sent = t.events.find((e) => (e.data as { orderId: string }).orderId === 'o-1')!;
    assert.equal(sent.type, 'NotificationSent');
    assert.equal(sent.causationid, confirmed.id);
    assert.deepEqual(
      (await t.service.store.recent(10)).map((n) => n.status),
      ['sent', 'sent'],
    );
  });

  it('retries a failing sender a few times, then marks the notification failed and does not resend it', async () => {
    const sender = recordingSender(5);
    const t = await setup(sender, 2);
    const event = await t.orders.publish(OrderConfirmed, { orderId: 'o-3', userId: 'cy', amountCents: 1 });
    await waitFor(async () => (await t.service.store.recent(10))[0]?.status === 'failed');
    await t.orders.publish(OrderConfirmed, event.data);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(sender.calls, 2);
    assert.equal((await t.service.store.recent(10))[0]!.error, 'provider down');
    assert.equal(t.events.length, 0, 'NotificationSent only after the sender accepted it');
  });

  it('marks a send interrupted by a stop as unknown on restart, without resending', async () => {
    const database = testDatabase();
    const transport = memory();
    const first = await notificationService({ database, transport });
    await first.storage.run(({ store }) =>
      store.claim(
        { notificationId: 'n-1', orderId: 'o-9', userId: 'd', outcome: 'confirmed', message: 'm' },
        'log',
      ),
    );
    const again = await notificationService({ database, transport });
    assert.equal((await again.store.recent(10))[0]!.status, 'unknown');
    await first.close();
    await again.close();
    closeTestDatabase(database);
  });
});
