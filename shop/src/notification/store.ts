import type { SqliteDatabase } from '@herald/sqlite';
import type { NotificationOutcome } from '../contracts/index.ts';

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

interface Row {
  notification_id: string;
  order_id: string;
  user_id: string;
  outcome: NotificationOutcome;
  message: string;
  status: NotificationStatus;
  channel: string;
  error: string | null;
  created_at: string;
  sent_at: string | null;
}

const toRecord = (row: Row): NotificationRecord => ({
  notificationId: row.notification_id,
  orderId: row.order_id,
  userId: row.user_id,
  outcome: row.outcome,
  message: row.message,
  status: row.status,
  channel: row.channel,
  error: row.error ?? undefined,
  createdAt: row.created_at,
  sentAt: row.sent_at ?? undefined,
});

/** The notification service's table: one row per order and outcome (the primary key). */
export function notificationStore(db: SqliteDatabase) {
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

  return {
    /** Claims the (order, outcome) pair; false when it was claimed before. */
    claim(notification: Notification, channel: string): boolean {
      const { orderId, outcome, notificationId, userId, message } = notification;
      return (
        claim.run(orderId, outcome, notificationId, userId, message, channel, new Date().toISOString())
          .changes > 0
      );
    },
    finish(notificationId: string, status: 'sent' | 'failed', error?: string): void {
      finish.run(status, error ?? null, status === 'sent' ? new Date().toISOString() : null, notificationId);
    },
    /** Marks claims left `sending` by a stopped process as `unknown`; returns how many. */
    abandonInterrupted(): number {
      return abandon.run().changes;
    },
    recent(limit: number): NotificationRecord[] {
      return recent.all(limit).map(toRecord);
    },
  };
}

/** The notification service's table access (see {@link notificationStore}). */
export type NotificationStore = ReturnType<typeof notificationStore>;
