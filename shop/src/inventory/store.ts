import type { SqliteDatabase } from '@herald/sqlite';
import { CATALOGUE, type StockLine } from '../contracts/index.ts';

/** Stock of one SKU. `available + reserved = initial` always (a CHECK constraint enforces it). */
export interface StockLevel {
  readonly sku: string;
  readonly initial: number;
  readonly available: number;
  readonly reserved: number;
}

/**
 * An order's reservation. `rejected`: nothing could be reserved. `cancelled`: a tombstone, the order was
 * cancelled before inventory saw it, so it is never reserved.
 */
export type ReservationStatus = 'reserved' | 'released' | 'rejected' | 'cancelled';

/** What inventory did for one order: at most one reservation per order (the primary key). */
export interface Reservation {
  readonly orderId: string;
  readonly status: ReservationStatus;
  readonly items: readonly StockLine[];
}

/** The inventory service's tables, seeded from the catalogue once. Writes are synchronous. */
export function inventoryStore(db: SqliteDatabase) {
  db.exec(`
    CREATE TABLE IF NOT EXISTS stock (
      sku TEXT PRIMARY KEY,
      initial INTEGER NOT NULL,
      available INTEGER NOT NULL CHECK (available >= 0),
      reserved INTEGER NOT NULL CHECK (reserved >= 0),
      CHECK (available + reserved = initial)
    );
    CREATE TABLE IF NOT EXISTS reservations (
      order_id TEXT PRIMARY KEY,
      status TEXT NOT NULL CHECK (status IN ('reserved', 'released', 'rejected', 'cancelled')),
      items TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
  `);
  // Seeds only SKUs not there yet: a restart keeps the stock as it is.
  const seed = db.prepare<[string, number, number]>(
    'INSERT OR IGNORE INTO stock (sku, initial, available, reserved) VALUES (?, ?, ?, 0)',
  );
  db.transaction(() => {
    for (const product of CATALOGUE) seed.run(product.sku, product.initialStock, product.initialStock);
  })();
  const level = db.prepare<[string], StockLevel>(
    'SELECT sku, initial, available, reserved FROM stock WHERE sku = ?',
  );
  const levels = db.prepare<[], StockLevel>(
    'SELECT sku, initial, available, reserved FROM stock ORDER BY sku',
  );
  const move = db.prepare<[number, number, string]>(
    'UPDATE stock SET available = available - ?, reserved = reserved + ? WHERE sku = ?',
  );
  const getReservation = db.prepare<[string], { order_id: string; status: ReservationStatus; items: string }>(
    'SELECT order_id, status, items FROM reservations WHERE order_id = ?',
  );
  const putReservation = db.prepare<[string, ReservationStatus, string, string]>(
    `INSERT INTO reservations (order_id, status, items, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
  );

  return {
    level(sku: string): StockLevel | undefined {
      return level.get(sku);
    },
    levels(): StockLevel[] {
      return levels.all();
    },
    /** Moves `quantity` from available to reserved (negative: back). The CHECKs refuse going below zero. */
    reserve(sku: string, quantity: number): void {
      move.run(quantity, quantity, sku);
    },
    reservation(orderId: string): Reservation | undefined {
      const row = getReservation.get(orderId);
      return row === undefined
        ? undefined
        : { orderId: row.order_id, status: row.status, items: JSON.parse(row.items) as StockLine[] };
    },
    putReservation(reservation: Reservation): void {
      putReservation.run(
        reservation.orderId,
        reservation.status,
        JSON.stringify(reservation.items),
        new Date().toISOString(),
      );
    },
  };
}

/** The inventory service's table access (see {@link inventoryStore}). */
export type InventoryStore = ReturnType<typeof inventoryStore>;
