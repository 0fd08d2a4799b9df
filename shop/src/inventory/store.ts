import type { Queryable } from '@herald/postgres';
import type { SqliteDatabase } from '@herald/sqlite';
import { CATALOGUE, type Product, type StockLine } from '../contracts/index.ts';
import {
  createPostgresOrderOutcomes,
  postgresOrderOutcomes,
  sqliteOrderOutcomes,
  type OrderOutcomeStore,
} from '../runtime/order-outcome.ts';
import type { StoreBackends } from '../runtime/storage.ts';

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

/** The inventory service's tables, seeded from the catalogue once (a restart keeps the stock as it is). */
export interface InventoryStore extends OrderOutcomeStore {
  level(sku: string): Promise<StockLevel | undefined>;
  levels(): Promise<StockLevel[]>;
  /** Moves `quantity` from available to reserved (negative: back). The CHECKs refuse going below zero. */
  reserve(sku: string, quantity: number): Promise<void>;
  reservation(orderId: string): Promise<Reservation | undefined>;
  /** Inserts the reservation, or moves an existing one to `status` (its items stay). */
  putReservation(reservation: Reservation): Promise<void>;
}

interface ReservationRow {
  order_id: string;
  status: ReservationStatus;
  /** JSON text in SQLite, parsed `jsonb` in PostgreSQL. */
  items: string | StockLine[];
}

const toReservation = (row: ReservationRow): Reservation => ({
  orderId: row.order_id,
  status: row.status,
  items: typeof row.items === 'string' ? (JSON.parse(row.items) as StockLine[]) : row.items,
});

function sqliteInventoryStore(
  db: SqliteDatabase,
  initialStock: (product: Product) => number,
): InventoryStore {
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
  const seed = db.prepare<[string, number, number]>(
    'INSERT OR IGNORE INTO stock (sku, initial, available, reserved) VALUES (?, ?, ?, 0)',
  );
  db.transaction(() => {
    for (const product of CATALOGUE) seed.run(product.sku, initialStock(product), initialStock(product));
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
  const getReservation = db.prepare<[string], ReservationRow>(
    'SELECT order_id, status, items FROM reservations WHERE order_id = ?',
  );
  const putReservation = db.prepare<[string, ReservationStatus, string, string]>(
    `INSERT INTO reservations (order_id, status, items, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
  );
  const outcomes = sqliteOrderOutcomes(db);
  return {
    settle: (orderId, outcome) => outcomes.settle(orderId, outcome),
    level: (sku) => Promise.resolve(level.get(sku)),
    levels: () => Promise.resolve(levels.all()),
    reserve(sku, quantity) {
      move.run(quantity, quantity, sku);
      return Promise.resolve();
    },
    reservation(orderId) {
      const row = getReservation.get(orderId);
      return Promise.resolve(row === undefined ? undefined : toReservation(row));
    },
    putReservation(reservation) {
      putReservation.run(
        reservation.orderId,
        reservation.status,
        JSON.stringify(reservation.items),
        new Date().toISOString(),
      );
      return Promise.resolve();
    },
  };
}

function postgresInventoryStore(q: Queryable, schema: string, inTransaction: boolean): InventoryStore {
  const s = `"${schema}"`;
  const lock = inTransaction ? ' FOR UPDATE' : '';
  const outcomes = postgresOrderOutcomes(q, schema);
  return {
    settle: (orderId, outcome) => outcomes.settle(orderId, outcome),
    async level(sku) {
      const { rows } = await q.query<StockLevel>(
        `SELECT sku, initial, available, reserved FROM ${s}.stock WHERE sku = $1${lock}`,
        [sku],
      );
      return rows[0];
    },
    async levels() {
      const { rows } = await q.query<StockLevel>(
        `SELECT sku, initial, available, reserved FROM ${s}.stock ORDER BY sku`,
      );
      return rows;
    },
    async reserve(sku, quantity) {
      await q.query(
        `UPDATE ${s}.stock SET available = available - $1, reserved = reserved + $1 WHERE sku = $2`,
        [quantity, sku],
      );
    },
    async reservation(orderId) {
      const { rows } = await q.query<ReservationRow>(
        `SELECT order_id, status, items FROM ${s}.reservations WHERE order_id = $1${lock}`,
        [orderId],
      );
      return rows[0] === undefined ? undefined : toReservation(rows[0]);
    },
    async putReservation(reservation) {
      await q.query(
        `INSERT INTO ${s}.reservations (order_id, status, items, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
        [reservation.orderId, reservation.status, JSON.stringify(reservation.items)],
      );
    },
  };
}

/**
 * The inventory service's tables on SQLite and on PostgreSQL. A new store is seeded with `initialStock` units
 * of every SKU when given (`INVENTORY_INITIAL_STOCK`: benchmarks and load tests need more than a shop's
 * shelves), else with the catalogue's; an existing store keeps its stock.
 */
export const inventoryStores = (initialStock?: number): StoreBackends<InventoryStore> => {
  const stockOf = (product: Product) => initialStock ?? product.initialStock;
  return {
    sqlite: (db) => sqliteInventoryStore(db, stockOf),
    async postgresSchema(client, schema) {
      const s = `"${schema}"`;
      await client.query(`
      CREATE TABLE IF NOT EXISTS ${s}.stock (
        sku text PRIMARY KEY,
        initial integer NOT NULL,
        available integer NOT NULL CHECK (available >= 0),
        reserved integer NOT NULL CHECK (reserved >= 0),
        CHECK (available + reserved = initial)
      );
      CREATE TABLE IF NOT EXISTS ${s}.reservations (
        order_id text PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('reserved', 'released', 'rejected', 'cancelled')),
        items jsonb NOT NULL,
        updated_at timestamptz NOT NULL
      );
    `);
      await createPostgresOrderOutcomes(client, schema);
      // Seeds only SKUs not there yet: a restart keeps the stock as it is.
      await client.query(
        `INSERT INTO ${s}.stock (sku, initial, available, reserved)
       SELECT sku, stock, stock, 0 FROM unnest($1::text[], $2::integer[]) AS catalogue (sku, stock)
       ON CONFLICT (sku) DO NOTHING`,
        [CATALOGUE.map((p) => p.sku), CATALOGUE.map(stockOf)],
      );
    },
    postgres: postgresInventoryStore,
  };
};
