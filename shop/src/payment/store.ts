import type { SqliteDatabase } from '@herald/sqlite';

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

interface PaymentRow {
  order_id: string;
  status: PaymentStatus;
  amount_cents: number;
  payment_id: string | null;
  reason: string | null;
  updated_at: string;
}

const toRecord = (row: PaymentRow): PaymentRecord => ({
  orderId: row.order_id,
  status: row.status,
  amountCents: row.amount_cents,
  paymentId: row.payment_id ?? undefined,
  reason: row.reason ?? undefined,
  updatedAt: row.updated_at,
});

/** The payment service's tables. Writes are synchronous: call them inside the caller's transaction. */
export function paymentStore(db: SqliteDatabase) {
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
  const ledger = db.prepare<
    [],
    { order_id: string; kind: 'charge' | 'refund'; amount_cents: number; payment_id: string; at: string }
  >('SELECT order_id, kind, amount_cents, payment_id, at FROM ledger ORDER BY id');

  return {
    get(orderId: string): PaymentRecord | undefined {
      const row = get.get(orderId);
      return row === undefined ? undefined : toRecord(row);
    },
    /** Inserts the payment, or moves an existing one to `status` (other columns keep their first value). */
    put(payment: Omit<PaymentRecord, 'updatedAt'>): void {
      upsert.run(
        payment.orderId,
        payment.status,
        payment.amountCents,
        payment.paymentId ?? null,
        payment.reason ?? null,
        new Date().toISOString(),
      );
    },
    addLedger(entry: Omit<LedgerEntry, 'at'>): void {
      addLedger.run(entry.orderId, entry.kind, entry.amountCents, entry.paymentId, new Date().toISOString());
    },
    recent(limit: number): PaymentRecord[] {
      return recent.all(limit).map(toRecord);
    },
    ledger(): LedgerEntry[] {
      return ledger.all().map((row) => ({
        orderId: row.order_id,
        kind: row.kind,
        amountCents: row.amount_cents,
        paymentId: row.payment_id,
        at: row.at,
      }));
    },
  };
}

/** The payment service's table access (see {@link paymentStore}). */
export type PaymentStore = ReturnType<typeof paymentStore>;
