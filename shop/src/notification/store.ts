import type { Queryable } from '@herald/postgres';
import type { SqliteDatabase } from '@herald/sqlite';
import type { NotificationOutcome } from '../contracts/index.ts';
import {
  createPostgresOrderOutcomes,
  postgresOrderOutcomes,
  sqliteOrderOutcomes,
  type OrderOutcomeStore,
} from '../runtime/order-outcome.ts';
import type { StoreBackends } from '../runtime/storage.ts';

/**
 * `sending`: claimed, the sender was called. `sent` / `failed`: the sender's answer. `unknown`: the process
 * stopped while sending, so whether it went out is unknown; it is not sent again (at most once).
 */
export type NotificationStatus = 'sending' | 'sent' | 'failed' | 'unknown';

/** What the customer is told. */
export interface Notification {
  /** Stable id: a sender can pass it to its provider as an idempotency key. */
  readonly notificationId: string;
  readonly orderId: string;
  readonly userId: string;
  readonly outcome: NotificationOutcome;
  readonly message: string;
}

/** A stored notification and what became of it. */
export interface NotificationRecord extends Notification {
  readonly status: NotificationStatus;
  readonly channel: string;
  readonly error: string | undefined;
  readonly createdAt: string;
  readonly sentAt: string | undefined;
}

/** The notification service's table: one row per order and outcome (the primary key). */
export interface NotificationStore extends OrderOutcomeStore {
  /** Claims the (order, outcome) pair as `sending`; false when it was claimed before. */
  claim(notification: Notification, channel: string): Promise<boolean>;
  finish(notificationId: string, status: 'sent' | 'failed', error?: string): Promise<void>;
  /** Marks claims left `sending` by a stopped process as `unknown`; returns how many. */
  abandonInterrupted(): Promise<number>;
  /** The most recent notifications, newest first. */
  recent(limit: number): Promise<NotificationRecord[]>;
  /**
   * A page of every notification, newest first (by creation time, then notification id): up to `limit` after
   * notification `after` (from the newest when absent), or `undefined` when no notification `after` exists. The
   * sort key never changes, so following pages returns each notification once.
   */
  page(after: string | undefined, limit: number): Promise<NotificationRecord[] | undefined>;
}

interface Row {
  notification_id: string;
  order_id: string;
  user_id: string;
  outcome: NotificationOutcome;
  message: string;
  status: NotificationStatus;
  channel: string;
  error: string | null;
  created_at: string | Date;
  sent_at: string | Date | null;
}

const iso = (time: string | Date): string => (typeof time === 'string' ? time : time.toISOString());

const toRecord = (row: Row): NotificationRecord => ({
  notificationId: row.notification_id,
  orderId: row.order_id,
  userId: row.user_id,
  outcome: row.outcome,
  message: row.message,
  status: row.status,
  channel: row.channel,
  error: row.error ?? undefined,
  createdAt: iso(row.created_at),
  sentAt: row.sent_at === null ? undefined : iso(row.sent_at),
});

function sqliteNotificationStore(db: SqliteDatabase): NotificationStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS notifications (
      order_id TEXT NOT NULL,
      outcome TEXT NOT NULL CHECK (outcome IN ('confirmed', 'cancelled')),
      notification_id TEXT NOT NULL UNIQUE,
      user_id TEXT NOT NULL,
      message TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'unknown')),
      channel TEXT NOT NULL,
      error TEXT,
      created_at TEXT NOT NULL,
      sent_at TEXT,
      PRIMARY KEY (order_id, outcome)
    );
    CREATE INDEX IF NOT EXISTS notifications_page ON notifications (created_at DESC, notification_id DESC);
  `);
  const claim = db.prepare<[string, string, string, string, string, string, string]>(
    `INSERT OR IGNORE INTO notifications (order_id, outcome, notification_id, user_id, message, status, channel, created_at)
     VALUES (?, ?, ?, ?, ?, 'sending', ?, ?)`,
  );
  const finish = db.prepare<[NotificationStatus, string | null, string | null, string]>(
    'UPDATE notifications SET status = ?, error = ?, sent_at = ? WHERE notification_id = ?',
  );
  const abandon = db.prepare<[]>("UPDATE notifications SET status = 'unknown' WHERE status = 'sending'");
  const recent = db.prepare<[number], Row>('SELECT * FROM notifications ORDER BY created_at DESC LIMIT ?');
  const byId = db.prepare<[string], Row>('SELECT * FROM notifications WHERE notification_id = ?');
  const firstPage = db.prepare<[number], Row>(
    'SELECT * FROM notifications ORDER BY created_at DESC, notification_id DESC LIMIT ?',
  );
  const pageAfter = db.prepare<[string, string, number], Row>(
    `SELECT * FROM notifications WHERE (created_at, notification_id) < (?, ?)
     ORDER BY created_at DESC, notification_id DESC LIMIT ?`,
  );
  const outcomes = sqliteOrderOutcomes(db);
  return {
    settle: (orderId, outcome) => outcomes.settle(orderId, outcome),
    claim(notification, channel) {
      const { orderId, outcome, notificationId, userId, message } = notification;
      const { changes } = claim.run(
        orderId,
        outcome,
        notificationId,
        userId,
        message,
        channel,
        new Date().toISOString(),
      );
      return Promise.resolve(changes > 0);
    },
    finish(notificationId, status, error) {
      finish.run(status, error ?? null, status === 'sent' ? new Date().toISOString() : null, notificationId);
      return Promise.resolve();
    },
    abandonInterrupted: () => Promise.resolve(abandon.run().changes),
    recent: (limit) => Promise.resolve(recent.all(limit).map(toRecord)),
    page(after, limit) {
      if (after === undefined) return Promise.resolve(firstPage.all(limit).map(toRecord));
      const cursor = byId.get(after);
      return Promise.resolve(
        cursor === undefined
          ? undefined
          : pageAfter.all(cursor.created_at as string, cursor.notification_id, limit).map(toRecord),
      );
    },
  };
}

function postgresNotificationStore(q: Queryable, schema: string): NotificationStore {
  const s = `"${schema}"`;
  const outcomes = postgresOrderOutcomes(q, schema);
  return {
    settle: (orderId, outcome) => outcomes.settle(orderId, outcome),
    async claim(notification, channel) {
      const { orderId, outcome, notificationId, userId, message } = notification;
      const result = await q.query(
        `INSERT INTO ${s}.notifications
           (order_id, outcome, notification_id, user_id, message, status, channel, created_at)
         VALUES ($1, $2, $3, $4, $5, 'sending', $6, now()) ON CONFLICT DO NOTHING`,
        [orderId, outcome, notificationId, userId, message, channel],
      );
      return result.rowCount === 1;
    },
    async finish(notificationId, status, error) {
      await q.query(
        `UPDATE ${s}.notifications SET status = $1::text, error = $2, sent_at = CASE WHEN $1::text = 'sent' THEN now() END
         WHERE notification_id = $3`,
        [status, error ?? null, notificationId],
      );
    },
    async abandonInterrupted() {
      const result = await q.query(
        `UPDATE ${s}.notifications SET status = 'unknown' WHERE status = 'sending'`,
      );
      return result.rowCount ?? 0;
    },
    async recent(limit) {
      const { rows } = await q.query<Row>(
        `SELECT * FROM ${s}.notifications ORDER BY created_at DESC LIMIT $1`,
        [limit],
      );
      return rows.map(toRecord);
    },
    async page(after, limit) {
      if (after === undefined) {
        const { rows } = await q.query<Row>(
          `SELECT * FROM ${s}.notifications ORDER BY created_at DESC, notification_id DESC LIMIT $1`,
          [limit],
        );
        return rows.map(toRecord);
      }
      // The cursor's timestamp is compared in the database: a JavaScript Date would drop its microseconds.
      const cursor = await q.query(`SELECT 1 FROM ${s}.notifications WHERE notification_id = $1`, [after]);
      if (cursor.rowCount === 0) return undefined;
      const { rows } = await q.query<Row>(
        `SELECT * FROM ${s}.notifications
         WHERE (created_at, notification_id) <
               (SELECT created_at, notification_id FROM ${s}.notifications WHERE notification_id = $1)
         ORDER BY created_at DESC, notification_id DESC LIMIT $2`,
        [after, limit],
      );
      return rows.map(toRecord);
    },
  };
}

/** The notification service's table on SQLite and on PostgreSQL. */
export const notificationStores: StoreBackends<NotificationStore> = {
  sqlite: sqliteNotificationStore,
  async postgresSchema(client, schema) {
    await client.query(`
      CREATE TABLE IF NOT EXISTS "${schema}".notifications (
        order_id text NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('confirmed', 'cancelled')),
        notification_id text NOT NULL UNIQUE,
        user_id text NOT NULL,
        message text NOT NULL,
        status text NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'unknown')),
        channel text NOT NULL,
        error text,
        created_at timestamptz NOT NULL,
        sent_at timestamptz,
        PRIMARY KEY (order_id, outcome)
      );
      CREATE INDEX IF NOT EXISTS notifications_page
        ON "${schema}".notifications (created_at DESC, notification_id DESC);
    `);
    await createPostgresOrderOutcomes(client, schema);
  },
  postgres: postgresNotificationStore,
};
