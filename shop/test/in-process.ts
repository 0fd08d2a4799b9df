import BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
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
import type { Database } from '../src/runtime/storage.ts';

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

/**
 * Where the in-process services keep their state: `memory` (default) gives each service a fresh in-memory SQLite
 * database; `postgres` (set by `postgres-state.int.test.ts`) a fresh schema in the test database, so the same
 * tests check the PostgreSQL stores.
 */
export const testState = {
  backend: 'sqlite' as 'sqlite' | 'postgres',
  /** The pool of the test database, when the backend is `postgres`. */
  pool: undefined as pg.Pool | undefined,
  /** Prefix of the schemas this run creates (`postgres` backend), dropped at its end. */
  schemaPrefix: `shop_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}_`,
};
let schemas = 0;

/** A fresh database for one service on the current {@link testState} backend. */
export function testDatabase(): Database {
  if (testState.backend === 'sqlite') return { kind: 'sqlite', db: new BetterSqlite3(':memory:') };
  return { kind: 'postgres', pool: testState.pool!, schema: `${testState.schemaPrefix}${++schemas}` };
}

/** Closes a database made by {@link testDatabase} (a PostgreSQL schema stays until the run drops it). */
export function closeTestDatabase(database: Database): void {
  if (database.kind === 'sqlite') database.db.close();
}

export function makeOrder(
  transport: Transport,
  database: Database = testDatabase(),
  options: { paymentDeadlineMs?: number } = {},
) {
  return orderService({ database, transport, ...fast, ...options });
}
export function makePayment(
  transport: Transport,
  limitCents?: number,
  database: Database = testDatabase(),
  options: { acceptPlainJson?: boolean } = {},
) {
  return paymentService({
    database,
    transport,
    ...(limitCents === undefined ? {} : { limitCents }),
    ...fast,
    ...options,
  });
}
export function makeInventory(
  transport: Transport,
  database: Database = testDatabase(),
  options: { initialStock?: number } = {},
) {
  return inventoryService({ database, transport, ...fast, ...options });
}
export function makeNotification(
  transport: Transport,
  options: Partial<NotificationServiceOptions> = {},
  database: Database = testDatabase(),
) {
  return notificationService({ database, transport, ...fast, ...options });
}

/** The four services in this process on one memory transport. */
export async function inProcessShop() {
  const transport = memory();
  const databases = [testDatabase(), testDatabase(), testDatabase(), testDatabase()] as const;
  const [order, payment, inventory, notification] = await Promise.all([
    makeOrder(transport, databases[0]),
    makePayment(transport, undefined, databases[1]),
    makeInventory(transport, databases[2]),
    makeNotification(transport, {}, databases[3]),
  ]);
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
      for (const database of databases) closeTestDatabase(database);
    },
  };
}
