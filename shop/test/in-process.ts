import Database from 'better-sqlite3';
import {
  createPublisher,
  decodeRecord,
  memory,
  type CloudEvent,
  type Publisher,
  type Subscription,
  type Transport,
} from '@herald/core';
import { inventoryService } from '../src/inventory/service.ts';
import { notificationService, type NotificationServiceOptions } from '../src/notification/service.ts';
import { orderService } from '../src/order/service.ts';
import { paymentService } from '../src/payment/service.ts';

/** Fast failure handling for tests: no long redelivery waits. */
const fast = {
  relay: { pollIntervalMs: 20 },
  router: {
    retry: { attempts: 2, backoff: { initialMs: 1, maxMs: 5 } },
    redelivery: { maxDeliveries: 2, backoff: { initialMs: 5, maxMs: 10 } },
    shutdownTimeoutMs: 1000,
  },
} as const;

/** Records every event published on `topics`, in delivery order. */
export function observe(
  transport: Transport,
  topics: string[],
): { events: CloudEvent[]; subscription: Subscription } {
  const events: CloudEvent[] = [];
  const subscription = transport.subscribe(
    { group: `observer-${Math.random().toString(36).slice(2)}`, topics, concurrency: 1 },
    async (delivery) => {
      events.push(decodeRecord(delivery.record));
      await delivery.ack();
    },
  );
  return { events, subscription };
}

/** A test publisher posing as another service. */
export function publisherAs(transport: Transport, source: string): Publisher {
  return createPublisher({ transport, source });
}

export const db = (): Database.Database => new Database(':memory:');

export function makeOrder(transport: Transport) {
  return orderService({ db: db(), transport, ...fast });
}
export function makePayment(transport: Transport, limitCents?: number) {
  return paymentService({
    db: db(),
    transport,
    ...(limitCents === undefined ? {} : { limitCents }),
    ...fast,
  });
}
export function makeInventory(transport: Transport) {
  return inventoryService({ db: db(), transport, ...fast });
}
export function makeNotification(transport: Transport, options: Partial<NotificationServiceOptions> = {}) {
  return notificationService({ db: db(), transport, ...fast, ...options });
}

/** The four services in this process on one memory transport. */
export async function inProcessShop() {
  const transport = memory();
  const order = makeOrder(transport);
  const payment = makePayment(transport);
  const inventory = makeInventory(transport);
  const notification = makeNotification(transport);
  const services = [order, payment, inventory, notification];
  await Promise.all(services.map((s) => s.start()));
  return {
    transport,
    order,
    payment,
    inventory,
    notification,
    async close() {
      await Promise.all(services.map((s) => s.close()));
      await transport.close();
      for (const s of services) s.outbox.db.close();
    },
  };
}
