import type { Queryable } from '@herald/postgres';
import type { SqliteDatabase } from '@herald/sqlite';
import {
  createPostgresOrderOutcomes,
  postgresOrderOutcomes,
  sqliteOrderOutcomes,
  type OrderOutcomeStore,
} from '../runtime/order-outcome.ts';
import type { StoreBackends } from '../runtime/storage.ts';

/**
 * A payment's state per order. `cancelled` is a tombstone: the order was cancelled before payment saw it, so it
 * is never charged.
 */
export type PaymentStatus = 'charged' | 'declined' | 'refunded' | 'cancelled';

/** One order's payment: at most one per order (the primary key). */
export interface PaymentRecord {
  readonly orderId: string;
  readonly status: PaymentStatus;
  readonly amountCents: number;
  readonly paymentId: string | undefined;
  readonly reason: string | undefined;
  readonly updatedAt: string;
}

/** A money movement. At most one charge and one refund per order: the table's UNIQUE constraint says so too. */
export interface LedgerEntry {
  readonly orderId: string;
  readonly kind: 'charge' | 'refund';
  readonly amountCents: number;
  readonly paymentId: string;
  readonly at: string;
}

/** The payment service's tables (see `StoreBackends` for how a store is bound to a transaction). */
export interface PaymentStore extends OrderOutcomeStore {
  get(orderId: string): Promise<PaymentRecord | undefined>;
  /** Inserts the payment, or moves an existing one to `status` (other columns keep their first value). */
  put(payment: Omit<PaymentRecord, 'updatedAt'>): Promise<void>;
  addLedger(entry: Omit<LedgerEntry, 'at'>): Promise<void>;
  /** The most recently changed payments, newest first. */
  recent(limit: number): Promise<PaymentRecord[]>;
  /**
   * A page of every payment by order id, descending (the shop's order ids are UUIDv7: newest orders first): up to
   * `limit` payments whose order id sorts before `after` (from the first when absent). The order id never changes,
   * so following pages returns each payment once, whatever changes meanwhile.
   */
  page(after: string | undefined, limit: number): Promise<PaymentRecord[]>;
  /** Every money movement, in the order they happened. */
  ledger(): Promise<LedgerEntry[]>;
  /** Up to `limit` money movements after the one with id `afterId` (0: from the start), in order, with their ids. */
  ledgerPage(afterId: number, limit: number): Promise<(LedgerEntry & { readonly id: number })[]>;
}

interface PaymentRow {
  order_id: string;
  status: PaymentStatus;
  amount_cents: number | string;
  payment_id: string | null;
  reason: string | null;
  updated_at: string | Date;
}

interface LedgerRow {
  id?: number | string;
  order_id: string;
  kind: 'charge' | 'refund';
  amount_cents: number | string;
  payment_id: string;
  at: string | Date;
}

const iso = (time: string | Date): string => (typeof time === 'string' ? time : time.toISOString());

const toRecord = (row: PaymentRow): PaymentRecord => ({
  orderId: row.order_id,
  status: row.status,
  amountCents: Number(row.amount_cents),
  paymentId: row.payment_id ?? undefined,
  reason: row.reason ?? undefined,
  updatedAt: iso(row.updated_at),
});

const toEntry = (row: LedgerRow): LedgerEntry => ({
  orderId: row.order_id,
  kind: row.kind,
  amountCents: Number(row.amount_cents),
  paymentId: row.payment_id,
  at: iso(row.at),
});

function sqlitePaymentStore(db: SqliteDatabase): PaymentStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS payments (
      order_id TEXT PRIMARY KEY,
      status TEXT NOT NULL CHECK (status IN ('charged', 'declined', 'refunded', 'cancelled')),
      amount_cents INTEGER NOT NULL,
      payment_id TEXT,
      reason TEXT,
      updated_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ledger (
      id INTEGER PRIMARY KEY,
      order_id TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('charge', 'refund')),
      amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
      payment_id TEXT NOT NULL,
      at TEXT NOT NULL,
      UNIQUE (order_id, kind)
    );
  `);
  const get = db.prepare<[string], PaymentRow>('SELECT * FROM payments WHERE order_id = ?');
  const upsert = db.prepare<[string, PaymentStatus, number, string | null, string | null, string]>(
    `INSERT INTO payments (order_id, status, amount_cents, payment_id, reason, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
  );
  const addLedger = db.prepare<[string, string, number, string, string]>(
    'INSERT INTO ledger (order_id, kind, amount_cents, payment_id, at) VALUES (?, ?, ?, ?, ?)',
  );
  const recent = db.prepare<[number], PaymentRow>('SELECT * FROM payments ORDER BY updated_at DESC LIMIT ?');
  const firstPage = db.prepare<[number], PaymentRow>('SELECT * FROM payments ORDER BY order_id DESC LIMIT ?');
  const pageAfter = db.prepare<[string, number], PaymentRow>(
    'SELECT * FROM payments WHERE order_id < ? ORDER BY order_id DESC LIMIT ?',
  );
  const ledgerPage = db.prepare<[number, number], LedgerRow>(
    'SELECT id, order_id, kind, amount_cents, payment_id, at FROM ledger WHERE id > ? ORDER BY id LIMIT ?',
  );
  const ledger = db.prepare<[], LedgerRow>(
    'SELECT order_id, kind, amount_cents, payment_id, at FROM ledger ORDER BY id',
  );
  const outcomes = sqliteOrderOutcomes(db);
  return {
    settle: (orderId, outcome) => outcomes.settle(orderId, outcome),
    get(orderId) {
      const row = get.get(orderId);
      return Promise.resolve(row === undefined ? undefined : toRecord(row));
    },
    put(payment) {
      upsert.run(
        payment.orderId,
        payment.status,
        payment.amountCents,
        payment.paymentId ?? null,
        payment.reason ?? null,
        new Date().toISOString(),
      );
      return Promise.resolve();
    },
    addLedger(entry) {
      addLedger.run(entry.orderId, entry.kind, entry.amountCents, entry.paymentId, new Date().toISOString());
      return Promise.resolve();
    },
    recent: (limit) => Promise.resolve(recent.all(limit).map(toRecord)),
    page: (after, limit) =>
      Promise.resolve(
        (after === undefined ? firstPage.all(limit) : pageAfter.all(after, limit)).map(toRecord),
      ),
    ledger: () => Promise.resolve(ledger.all().map(toEntry)),
    ledgerPage: (afterId, limit) =>
      Promise.resolve(ledgerPage.all(afterId, limit).map((row) => ({ id: Number(row.id), ...toEntry(row) }))),
  };
}

function postgresPaymentStore(q: Queryable, schema: string, inTransaction: boolean): PaymentStore {
  const s = `"${schema}"`;
  const outcomes = postgresOrderOutcomes(q, schema);
  return {
    settle: (orderId, outcome) => outcomes.settle(orderId, outcome),
    async get(orderId) {
      const { rows } = await q.query<PaymentRow>(
        `SELECT * FROM ${s}.payments WHERE order_id = $1${inTransaction ? ' FOR UPDATE' : ''}`,
        [orderId],
      );
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },
    async put(payment) {
      await q.query(
        `INSERT INTO ${s}.payments (order_id, status, amount_cents, payment_id, reason, updated_at)
         VALUES ($1, $2, $3, $4, $5, now())
         ON CONFLICT (order_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
        [
          payment.orderId,
          payment.status,
          payment.amountCents,
          payment.paymentId ?? null,
          payment.reason ?? null,
        ],
      );
    },
    async addLedger(entry) {
      await q.query(
        `INSERT INTO ${s}.ledger (order_id, kind, amount_cents, payment_id, at) VALUES ($1, $2, $3, $4, now())`,
        [entry.orderId, entry.kind, entry.amountCents, entry.paymentId],
      );
    },
    async recent(limit) {
      const { rows } = await q.query<PaymentRow>(
        `SELECT * FROM ${s}.payments ORDER BY updated_at DESC LIMIT $1`,
        [limit],
      );
      return rows.map(toRecord);
    },
    async page(after, limit) {
      const { rows } = await q.query<PaymentRow>(
        after === undefined
          ? `SELECT * FROM ${s}.payments ORDER BY order_id DESC LIMIT $1`
          : `SELECT * FROM ${s}.payments WHERE order_id < $2 ORDER BY order_id DESC LIMIT $1`,
        after === undefined ? [limit] : [limit, after],
      );
      return rows.map(toRecord);
    },
    async ledger() {
      const { rows } = await q.query<LedgerRow>(
        `SELECT order_id, kind, amount_cents, payment_id, at FROM ${s}.ledger ORDER BY id`,
      );
      return rows.map(toEntry);
    },
    async ledgerPage(afterId, limit) {
      const { rows } = await q.query<LedgerRow>(
        `SELECT id, order_id, kind, amount_cents, payment_id, at FROM ${s}.ledger WHERE id > $1 ORDER BY id LIMIT $2`,
        [afterId, limit],
      );
      return rows.map((row) => ({ id: Number(row.id), ...toEntry(row) }));
    },
  };
}

/** The payment service's tables on SQLite and on PostgreSQL. */
export const paymentStores: StoreBackends<PaymentStore> = {
  sqlite: sqlitePaymentStore,
  async postgresSchema(client, schema) {
    const s = `"${schema}"`;
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${s}.payments (
        order_id text PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('charged', 'declined', 'refunded', 'cancelled')),
        amount_cents bigint NOT NULL,
        payment_id text,
        reason text,
        updated_at timestamptz NOT NULL
      );
      CREATE INDEX IF NOT EXISTS payments_recent ON ${s}.payments (updated_at DESC);
      CREATE TABLE IF NOT EXISTS ${s}.ledger (
        id bigserial PRIMARY KEY,
        order_id text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('charge', 'refund')),
        amount_cents bigint NOT NULL CHECK (amount_cents >= 0),
        payment_id text NOT NULL,
        at timestamptz NOT NULL,
        UNIQUE (order_id, kind)
      );
    `);
    await createPostgresOrderOutcomes(client, schema);
  },
  postgres: postgresPaymentStore,
};
