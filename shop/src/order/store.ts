import type { CloudEvent } from '@herald/core';
import type { Queryable } from '@herald/postgres';
import type { SqliteDatabase } from '@herald/sqlite';
import type { OrderLine } from '../contracts/index.ts';
import type { StoreBackends } from '../runtime/storage.ts';

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

/** A new order, as {@link OrderStore.insert} takes it. */
export interface NewOrder {
  readonly orderId: string;
  readonly userId: string;
  readonly amountCents: number;
  readonly items: readonly OrderLine[];
  readonly at: string;
  /** The client's `Idempotency-Key` and the hash of the request it came with: unique among orders. */
  readonly idempotency?: IdempotencyRecord;
}

/** An `Idempotency-Key` as stored with the order it created. */
export interface IdempotencyRecord {
  readonly key: string;
  /** SHA-256 (hex) of the validated request: a retry must send the same one. */
  readonly requestHash: string;
}

/** The order an idempotency key created, and the hash of the request that created it. */
export interface IdempotentOrder extends IdempotencyRecord {
  readonly orderId: string;
}

/**
 * Whether `error` is the unique violation of the idempotency key (SQLite or PostgreSQL): a concurrent or earlier
 * request with the same key created its order first.
 */
export function isDuplicateIdempotencyKey(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown };
  if (e.code === '23505') return e.constraint === 'orders_idempotency_key';
  return (
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' &&
    typeof e.message === 'string' &&
    e.message.includes('idempotency_key')
  );
}

/** One event that moved an order, in the order the service handled (or emitted) them. */
export interface HistoryEntry {
  readonly type: string;
  readonly eventId: string;
  /** The event's time. */
  readonly at: string;
  readonly reason?: string;
}

/** The order service's tables (see `StoreBackends` for how a store is bound to a transaction). */
export interface OrderStore {
  /**
   * Stores a new order, PENDING. Rejects with a unique violation ({@link isDuplicateIdempotencyKey}) when an
   * order already holds its idempotency key: the database decides, so concurrent retries create one order.
   */
  insert(order: NewOrder): Promise<void>;
  /** The order created with idempotency key `key`, if any. */
  byIdempotencyKey(key: string): Promise<IdempotentOrder | undefined>;
  get(orderId: string): Promise<OrderRecord | undefined>;
  /** The most recent orders, newest first. */
  recent(limit: number): Promise<OrderRecord[]>;
  /**
   * A page of every order, newest first (by creation time, then order id): up to `limit` orders after order
   * `after` in that order (from the newest when `after` is absent), or `undefined` when no order `after` exists.
   * The sort key never changes, so following pages returns each order once.
   */
  page(after: string | undefined, limit: number): Promise<OrderRecord[] | undefined>;
  /** Writes the order's status, reason, saga state and `updatedAt`. */
  save(order: OrderRecord): Promise<void>;
  addHistory(orderId: string, event: CloudEvent, reason?: string): Promise<void>;
  history(orderId: string): Promise<HistoryEntry[]>;
}

interface OrderRow {
  order_id: string;
  user_id: string;
  status: OrderStatus;
  reason: string | null;
  amount_cents: number | string;
  /** JSON text in SQLite, parsed `jsonb` in PostgreSQL. */
  items: string | OrderLine[];
  payment: PaymentState;
  stock: StockState;
  created_at: string | Date;
  updated_at: string | Date;
}

interface HistoryRow {
  type: string;
  event_id: string;
  at: string | Date;
  reason: string | null;
}

const iso = (time: string | Date): string => (typeof time === 'string' ? time : time.toISOString());

const toRecord = (row: OrderRow): OrderRecord => ({
  orderId: row.order_id,
  userId: row.user_id,
  status: row.status,
  reason: row.reason ?? undefined,
  amountCents: Number(row.amount_cents),
  items: typeof row.items === 'string' ? (JSON.parse(row.items) as OrderLine[]) : row.items,
  payment: row.payment,
  stock: row.stock,
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at),
});

const toEntry = (row: HistoryRow): HistoryEntry => ({
  type: row.type,
  eventId: row.event_id,
  at: iso(row.at),
  ...(row.reason === null ? {} : { reason: row.reason }),
});

function sqliteOrderStore(db: SqliteDatabase): OrderStore {
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
    CREATE INDEX IF NOT EXISTS orders_page ON orders (created_at DESC, order_id DESC);
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
  // Databases created before idempotency keys gain the columns (SQLite has no ADD COLUMN IF NOT EXISTS).
  const columns = new Set(
    db
      .prepare<[], { name: string }>('PRAGMA table_info(orders)')
      .all()
      .map((c) => c.name),
  );
  if (!columns.has('idempotency_key')) db.exec('ALTER TABLE orders ADD COLUMN idempotency_key TEXT');
  if (!columns.has('request_hash')) db.exec('ALTER TABLE orders ADD COLUMN request_hash TEXT');
  db.exec(
    'CREATE UNIQUE INDEX IF NOT EXISTS orders_idempotency_key ON orders (idempotency_key) WHERE idempotency_key IS NOT NULL',
  );
  const insert = db.prepare<[string, string, number, string, string, string, string | null, string | null]>(
    `INSERT INTO orders (order_id, user_id, status, amount_cents, items, created_at, updated_at, idempotency_key, request_hash)
     VALUES (?, ?, 'PENDING', ?, ?, ?, ?, ?, ?)`,
  );
  const byKey = db.prepare<[string], { order_id: string; idempotency_key: string; request_hash: string }>(
    'SELECT order_id, idempotency_key, request_hash FROM orders WHERE idempotency_key = ?',
  );
  const get = db.prepare<[string], OrderRow>('SELECT * FROM orders WHERE order_id = ?');
  const firstPage = db.prepare<[number], OrderRow>(
    'SELECT * FROM orders ORDER BY created_at DESC, order_id DESC LIMIT ?',
  );
  const pageAfter = db.prepare<[string, string, number], OrderRow>(
    'SELECT * FROM orders WHERE (created_at, order_id) < (?, ?) ORDER BY created_at DESC, order_id DESC LIMIT ?',
  );
  const recent = db.prepare<[number], OrderRow>(
    'SELECT * FROM orders ORDER BY created_at DESC, rowid DESC LIMIT ?',
  );
  const update = db.prepare<[OrderStatus, string | null, PaymentState, StockState, string, string]>(
    'UPDATE orders SET status = ?, reason = ?, payment = ?, stock = ?, updated_at = ? WHERE order_id = ?',
  );
  const addHistory = db.prepare<[string, string, string, string, string | null]>(
    'INSERT INTO order_history (order_id, type, event_id, at, reason) VALUES (?, ?, ?, ?, ?)',
  );
  const history = db.prepare<[string], HistoryRow>(
    'SELECT type, event_id, at, reason FROM order_history WHERE order_id = ? ORDER BY id',
  );
  return {
    insert(order) {
      insert.run(
        order.orderId,
        order.userId,
        order.amountCents,
        JSON.stringify(order.items),
        order.at,
        order.at,
        order.idempotency?.key ?? null,
        order.idempotency?.requestHash ?? null,
      );
      return Promise.resolve();
    },
    byIdempotencyKey(key) {
      const row = byKey.get(key);
      return Promise.resolve(
        row === undefined
          ? undefined
          : { orderId: row.order_id, key: row.idempotency_key, requestHash: row.request_hash },
      );
    },
    get(orderId) {
      const row = get.get(orderId);
      return Promise.resolve(row === undefined ? undefined : toRecord(row));
    },
    recent: (limit) => Promise.resolve(recent.all(limit).map(toRecord)),
    page(after, limit) {
      if (after === undefined) return Promise.resolve(firstPage.all(limit).map(toRecord));
      const cursor = get.get(after);
      return Promise.resolve(
        cursor === undefined
          ? undefined
          : pageAfter.all(cursor.created_at as string, cursor.order_id, limit).map(toRecord),
      );
    },
    save(order) {
      update.run(
        order.status,
        order.reason ?? null,
        order.payment,
        order.stock,
        order.updatedAt,
        order.orderId,
      );
      return Promise.resolve();
    },
    addHistory(orderId, event, reason) {
      addHistory.run(orderId, event.type, event.id, event.time, reason ?? null);
      return Promise.resolve();
    },
    history: (orderId) => Promise.resolve(history.all(orderId).map(toEntry)),
  };
}

function postgresOrderStore(q: Queryable, schema: string, inTransaction: boolean): OrderStore {
  const s = `"${schema}"`;
  return {
    async insert(order) {
      await q.query(
        `INSERT INTO ${s}.orders
           (order_id, user_id, status, amount_cents, items, created_at, updated_at, idempotency_key, request_hash)
         VALUES ($1, $2, 'PENDING', $3, $4, $5, $5, $6, $7)`,
        [
          order.orderId,
          order.userId,
          order.amountCents,
          JSON.stringify(order.items),
          order.at,
          order.idempotency?.key ?? null,
          order.idempotency?.requestHash ?? null,
        ],
      );
    },
    async byIdempotencyKey(key) {
      const { rows } = await q.query<{ order_id: string; idempotency_key: string; request_hash: string }>(
        `SELECT order_id, idempotency_key, request_hash FROM ${s}.orders WHERE idempotency_key = $1`,
        [key],
      );
      const row = rows[0];
      return row === undefined
        ? undefined
        : { orderId: row.order_id, key: row.idempotency_key, requestHash: row.request_hash };
    },
    async get(orderId) {
      // In a transaction the row stays locked to its end: two results of one order (payment and stock) are
      // applied one after the other, never both to the same old state.
      const { rows } = await q.query<OrderRow>(
        `SELECT * FROM ${s}.orders WHERE order_id = $1${inTransaction ? ' FOR UPDATE' : ''}`,
        [orderId],
      );
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },
    async recent(limit) {
      // Order ids are UUIDv7: they sort by creation time, so they break ties within a timestamp.
      const { rows } = await q.query<OrderRow>(
        `SELECT * FROM ${s}.orders ORDER BY created_at DESC, order_id DESC LIMIT $1`,
        [limit],
      );
      return rows.map(toRecord);
    },
    async page(after, limit) {
      if (after === undefined) return this.recent(limit);
      // The cursor's timestamp is compared in the database: a JavaScript Date would drop its microseconds.
      const cursor = await q.query(`SELECT 1 FROM ${s}.orders WHERE order_id = $1`, [after]);
      if (cursor.rowCount === 0) return undefined;
      const { rows } = await q.query<OrderRow>(
        `SELECT * FROM ${s}.orders
         WHERE (created_at, order_id) < (SELECT created_at, order_id FROM ${s}.orders WHERE order_id = $1)
         ORDER BY created_at DESC, order_id DESC LIMIT $2`,
        [after, limit],
      );
      return rows.map(toRecord);
    },
    async save(order) {
      await q.query(
        `UPDATE ${s}.orders SET status = $1, reason = $2, payment = $3, stock = $4, updated_at = $5
         WHERE order_id = $6`,
        [order.status, order.reason ?? null, order.payment, order.stock, order.updatedAt, order.orderId],
      );
    },
    async addHistory(orderId, event, reason) {
      await q.query(
        `INSERT INTO ${s}.order_history (order_id, type, event_id, at, reason) VALUES ($1, $2, $3, $4, $5)`,
        [orderId, event.type, event.id, event.time, reason ?? null],
      );
    },
    async history(orderId) {
      const { rows } = await q.query<HistoryRow>(
        `SELECT type, event_id, at, reason FROM ${s}.order_history WHERE order_id = $1 ORDER BY id`,
        [orderId],
      );
      return rows.map(toEntry);
    },
  };
}

/** The order service's tables on SQLite and on PostgreSQL. */
export const orderStores: StoreBackends<OrderStore> = {
  sqlite: sqliteOrderStore,
  async postgresSchema(client, schema) {
    const s = `"${schema}"`;
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${s}.orders (
        order_id text PRIMARY KEY,
        user_id text NOT NULL,
        status text NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED')),
        reason text,
        amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
        items jsonb NOT NULL,
        payment text NOT NULL DEFAULT 'pending' CHECK (payment IN ('pending', 'completed', 'failed', 'refunded')),
        stock text NOT NULL DEFAULT 'pending' CHECK (stock IN ('pending', 'reserved', 'unavailable', 'released')),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      );
      CREATE INDEX IF NOT EXISTS orders_recent ON ${s}.orders (created_at DESC, order_id DESC);
      CREATE TABLE IF NOT EXISTS ${s}.order_history (
        id bigserial PRIMARY KEY,
        order_id text NOT NULL REFERENCES ${s}.orders (order_id),
        type text NOT NULL,
        event_id text NOT NULL,
        at timestamptz NOT NULL,
        reason text
      );
      CREATE INDEX IF NOT EXISTS order_history_by_order ON ${s}.order_history (order_id, id);
      ALTER TABLE ${s}.orders ADD COLUMN IF NOT EXISTS idempotency_key text,
        ADD COLUMN IF NOT EXISTS request_hash text;
      CREATE UNIQUE INDEX IF NOT EXISTS orders_idempotency_key ON ${s}.orders (idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    `);
  },
  postgres: postgresOrderStore,
};
