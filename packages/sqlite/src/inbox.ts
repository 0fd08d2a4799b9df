import type { Inbox } from '@herald/core';
import { checkTableName, type SqliteDatabase } from './outbox.ts';

/** Options of {@link sqliteInbox}. */
export interface SqliteInboxOptions {
  /** The service's own database: the inbox must live next to the state it protects. */
  readonly db: SqliteDatabase;
  /** Table name. Default `herald_inbox`. Created if missing. */
  readonly table?: string;
}

/**
 * The consumer side of effectively-once: a table of `(consumer_group, event_id)` pairs in the service's SQLite
 * database. {@link SqliteInbox.once} records the pair in the same transaction as the handler's state change, so a
 * redelivered event changes nothing.
 */
export interface SqliteInbox extends Inbox {
  readonly db: SqliteDatabase;
  readonly table: string;
  /**
   * Runs `work` and records `(group, eventId)` in ONE transaction and returns `true`; returns `false` without
   * running `work` when the pair is recorded already. If `work` throws, nothing is recorded and nothing it wrote
   * commits (the error propagates). Inside an outer transaction it becomes a savepoint of it.
   */
  once(group: string, eventId: string, work: () => void): boolean;
  /**
   * Records `(group, eventId)` in the caller's transaction, for callers that manage it themselves (such as
   * `sqliteUnitOfWork`). Returns `false` when it is recorded already (then skip the work). Call it before
   * the state change.
   */
  record(group: string, eventId: string): boolean;
  /** True when `(group, eventId)` is recorded. */
  has(group: string, eventId: string): boolean;
  /**
   * Core's {@link Inbox}, for asynchronous work (e.g. with the `idempotency` middleware). Weaker than
   * {@link SqliteInbox.once}: the pair is recorded after `work` resolves, in its own transaction, so if the
   * process dies in between, `work` runs again on redelivery. Concurrent calls for one pair in this process wait
   * for each other. Use `once` or `sqliteUnitOfWork` when the effects are in this database.
   */
  runOnce(group: string, eventId: string, work: () => Promise<void>): Promise<boolean>;
  /**
   * Deletes pairs recorded before `before` and returns how many. Only prune past the longest time a transport may
   * redeliver an event (retention of the log), or duplicates older than that would be handled again.
   */
  prune(before: Date): number;
}

/** Creates (if missing) and opens the inbox table in `db`. See {@link SqliteInbox} for the guarantee. */
export function sqliteInbox(options: SqliteInboxOptions): SqliteInbox {
  const { db } = options;
  const table = options.table ?? 'herald_inbox';
  checkTableName('table', table);
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
    consumer_group TEXT NOT NULL,
    event_id TEXT NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (consumer_group, event_id)
  ) WITHOUT ROWID`);
  const record = db.prepare<[string, string, number]>(
    `INSERT OR IGNORE INTO ${table} (consumer_group, event_id, processed_at) VALUES (?, ?, ?)`,
  );
  const exists = db.prepare<[string, string], { one: number }>(
    `SELECT 1 AS one FROM ${table} WHERE consumer_group = ? AND event_id = ?`,
  );
  const prune = db.prepare<[number]>(`DELETE FROM ${table} WHERE processed_at < ?`);
  const onceTx = db.transaction((group: string, eventId: string, work: () => void): boolean => {
    // Claim first: a duplicate costs one insert and never runs `work`.
    if (record.run(group, eventId, Date.now()).changes === 0) return false;
    work();
    return true;
  });
  const running = new Map<string, Promise<boolean>>();

  const inbox: SqliteInbox = {
    db,
    table,
    once(group, eventId, work) {
      return onceTx(group, eventId, work);
    },
    record(group, eventId) {
      return record.run(group, eventId, Date.now()).changes === 1;
    },
    has(group, eventId) {
      return exists.get(group, eventId) !== undefined;
    },
    async runOnce(group, eventId, work) {
      const key = `${group}\u0000${eventId}`;
      for (let inFlight = running.get(key); inFlight; inFlight = running.get(key)) {
        await inFlight.catch(() => undefined);
      }
      if (inbox.has(group, eventId)) return false;
      const attempt = work().then(() => {
        record.run(group, eventId, Date.now());
        return true;
      });
      running.set(key, attempt);
      try {
        return await attempt;
      } finally {
        running.delete(key);
      }
    },
    prune(before) {
      return prune.run(before.getTime()).changes;
    },
  };
  return inbox;
}
