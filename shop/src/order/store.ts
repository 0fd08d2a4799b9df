import type { CloudEvent } from '@herald/core';
import type { SqliteDatabase } from '@herald/sqlite';
import type { OrderLine } from '../contracts/index.ts';

/** An order's status in the API: PENDING until both sides answered, then final. */
export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'CANCELLED';
/** Where the payment side of the saga stands, as the order service learned it from events. */
export type PaymentState = 'pending' | 'completed' | 'failed' | 'refunded';
/** Where the stock side of the saga stands. */
export type StockState = 'pending' | 'reserved' | 'unavailable' | 'released';

/** An order row: the saga's state. */
export interface OrderRecord {
  readonly orderId: string;
  readonly userId: string;
  readonly status: OrderStatus;
  readonly reason: string | undefined;
  readonly amountCents: number;
  readonly items: readonly OrderLine[];
  readonly payment: PaymentState;
  readonly stock: StockState;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** One event that moved an order, in the order the service handled (or emitted) them. */
export interface HistoryEntry {
  readonly type: string;
  readonly eventId: string;
  /** The event's time. */
  readonly at: string;
  readonly reason?: string;
}

interface OrderRow {
  order_id: string;
  user_id: string;
  status: OrderStatus;
  reason: string | null;
  amount_cents: number;
  items: string;
  payment: PaymentState;
  stock: StockState;
  created_at: string;
  updated_at: string;
}

const toRecord = (row: OrderRow): OrderRecord => ({
  orderId: row.order_id,
  userId: row.user_id,
  status: row.status,
  reason: row.reason ?? undefined,
  amountCents: row.amount_cents,
  items: JSON.parse(row.items) as OrderLine[],
  payment: row.payment,
  stock: row.stock,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** The order service's tables. All writes are synchronous: call them inside the caller's transaction. */
export function orderStore(db: SqliteDatabase) {
  db.exec(`
    CREATE TABLE IF NOT EXISTS orders (
      order_id TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED')),
      reason TEXT,
      amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
      items TEXT NOT NULL,
      payment TEXT NOT NULL DEFAULT 'pending' CHECK (payment IN ('pending', 'completed', 'failed', 'refunded')),
      stock TEXT NOT NULL DEFAULT 'pending' CHECK (stock IN ('pending', 'reserved', 'unavailable', 'released')),
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS orders_recent ON orders (created_at DESC);
    CREATE TABLE IF NOT EXISTS order_history (
      id INTEGER PRIMARY KEY,
      order_id TEXT NOT NULL REFERENCES orders (order_id),
      type TEXT NOT NULL,
      event_id TEXT NOT NULL,
      at TEXT NOT NULL,
      reason TEXT
    );
    CREATE INDEX IF NOT EXISTS order_history_by_order ON order_history (order_id, id);
  `);
  const insert = db.prepare<[string, string, number, string, string, string]>(
    `INSERT INTO orders (order_id, user_id, status, amount_cents, items, created_at, updated_at)
     VALUES (?, ?, 'PENDING', ?, ?, ?, ?)`,
  );
  const get = db.prepare<[string], OrderRow>('SELECT * FROM orders WHERE order_id = ?');
  const recent = db.prepare<[number], OrderRow>(
    'SELECT * FROM orders ORDER BY created_at DESC, rowid DESC LIMIT ?',
  );
  const update = db.prepare<[OrderStatus, string | null, PaymentState, StockState, string, string]>(
    'UPDATE orders SET status = ?, reason = ?, payment = ?, stock = ?, updated_at = ? WHERE order_id = ?',
  );
  const addHistory = db.prepare<[string, string, string, string, string | null]>(
    'INSERT INTO order_history (order_id, type, event_id, at, reason) VALUES (?, ?, ?, ?, ?)',
  );
  const history = db.prepare<[string], { type: string; event_id: string; at: string; reason: string | null }>(
    'SELECT type, event_id, at, reason FROM order_history WHERE order_id = ? ORDER BY id',
  );

  return {
    insert(order: {
      orderId: string;
      userId: string;
      amountCents: number;
      items: readonly OrderLine[];
      at: string;
    }) {
      insert.run(
        order.orderId,
        order.userId,
        order.amountCents,
        JSON.stringify(order.items),
        order.at,
        order.at,
      );
    },
    get(orderId: string): OrderRecord | undefined {
      const row = get.get(orderId);
      return row === undefined ? undefined : toRecord(row);
    },
    recent(limit: number): OrderRecord[] {
      return recent.all(limit).map(toRecord);
    },
    save(order: OrderRecord): void {
      update.run(
        order.status,
        order.reason ?? null,
        order.payment,
        order.stock,
        order.updatedAt,
        order.orderId,
      );
    },
    addHistory(orderId: string, event: CloudEvent, reason?: string): void {
      addHistory.run(orderId, event.type, event.id, event.time, reason ?? null);
    },
    history(orderId: string): HistoryEntry[] {
      return history.all(orderId).map((row) => ({
        type: row.type,
        eventId: row.event_id,
        at: row.at,
        ...(row.reason === null ? {} : { reason: row.reason }),
      }));
    },
  };
}

/** The order service's table access (see {@link orderStore}). */
export type OrderStore = ReturnType<typeof orderStore>;
