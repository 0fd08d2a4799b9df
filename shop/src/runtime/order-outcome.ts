import type { Queryable } from '@herald/postgres';
import type { Router } from '@herald/core';
import type { SqliteDatabase } from '@herald/sqlite';
import { OrderConfirmed } from '../contracts/index.ts';
import type { Logger } from './logger.ts';
import type { ServiceStorage } from './storage.ts';
import { fromOrderService, refuseSettled } from './trusted-source.ts';

/** How the order saga settles an order, once: `OrderConfirmed` or `OrderCancelled`. */
export type OrderOutcome = 'confirmed' | 'cancelled';

/**
 * The outcome of each order as one consumer saw it first. The saga emits exactly one of `OrderConfirmed` and
 * `OrderCancelled` per order, on the order's partition key, so a consumer sees the genuine one first; a second,
 * different outcome for the same order was not sent by the saga (a cancellation of a confirmed order, say) and
 * is refused.
 */
export interface OrderOutcomeStore {
  /**
   * Records `outcome` for `orderId` unless an outcome is already recorded, and returns the outcome that stands:
   * `outcome` itself, or the earlier, different one (then the caller refuses the event). In the caller's
   * transaction, so the record and the effect it allows commit together.
   */
  settle(orderId: string, outcome: OrderOutcome): Promise<OrderOutcome>;
}

const CHECK = `CHECK (outcome IN ('confirmed', 'cancelled'))`;

/** The `order_outcomes` table on an SQLite connection (created if missing). */
export function sqliteOrderOutcomes(db: SqliteDatabase): OrderOutcomeStore {
  db.exec(
    `CREATE TABLE IF NOT EXISTS order_outcomes (order_id TEXT PRIMARY KEY, outcome TEXT NOT NULL ${CHECK})`,
  );
  const insert = db.prepare<[string, OrderOutcome]>(
    'INSERT INTO order_outcomes (order_id, outcome) VALUES (?, ?) ON CONFLICT (order_id) DO NOTHING',
  );
  const get = db.prepare<[string], { outcome: OrderOutcome }>(
    'SELECT outcome FROM order_outcomes WHERE order_id = ?',
  );
  return {
    settle(orderId, outcome) {
      insert.run(orderId, outcome);
      return Promise.resolve(get.get(orderId)!.outcome);
    },
  };
}

/** Creates the `order_outcomes` table in `schema` if missing. */
export async function createPostgresOrderOutcomes(client: Queryable, schema: string): Promise<void> {
  await client.query(
    `CREATE TABLE IF NOT EXISTS "${schema}".order_outcomes (order_id text PRIMARY KEY, outcome text NOT NULL ${CHECK})`,
  );
}

/** The `order_outcomes` table of `schema` on a PostgreSQL client or pool. */
export function postgresOrderOutcomes(q: Queryable, schema: string): OrderOutcomeStore {
  const s = `"${schema}"`;
  return {
    async settle(orderId, outcome) {
      // The statement's snapshot does not show its own insert, hence the union: the new row, or the standing one.
      const { rows } = await q.query<{ outcome: OrderOutcome }>(
        `WITH inserted AS (
           INSERT INTO ${s}.order_outcomes (order_id, outcome) VALUES ($1, $2)
           ON CONFLICT (order_id) DO NOTHING RETURNING outcome
         )
         SELECT outcome FROM inserted
         UNION ALL SELECT outcome FROM ${s}.order_outcomes WHERE order_id = $1
         LIMIT 1`,
        [orderId, outcome],
      );
      if (rows[0] !== undefined) return rows[0].outcome;
      // A concurrent transaction inserted the row after this statement's snapshot: a new statement sees it.
      const standing = await q.query<{ outcome: OrderOutcome }>(
        `SELECT outcome FROM ${s}.order_outcomes WHERE order_id = $1`,
        [orderId],
      );
      return standing.rows[0]!.outcome;
    },
  };
}

/**
 * Registers the `OrderConfirmed` handler of a consumer that only remembers the outcome (payment, inventory):
 * from the order service only; `confirmed` recorded with the inbox record in one unit of work, or, when the order
 * already stands cancelled, the confirmation refused, logged and counted (`refuseSettled`) once committed.
 */
export function recordConfirmations<S extends OrderOutcomeStore>(
  router: Router,
  storage: ServiceStorage<S>,
  log: Logger,
): void {
  router.on(OrderConfirmed, async (event, context) => {
    if (!fromOrderService(event, log, context)) return;
    let refusedBy: OrderOutcome | undefined;
    await storage.handle(context.group, event, async ({ store }) => {
      const standing = await store.settle(event.data.orderId, 'confirmed');
      if (standing !== 'confirmed') refusedBy = standing;
    });
    if (refusedBy !== undefined) refuseSettled(event, refusedBy, log, context);
  });
}
