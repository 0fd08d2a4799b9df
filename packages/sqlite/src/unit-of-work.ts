import { configError, createUnitOfWork, type UnitOfWork } from '@herald/core';
import type { SqliteInbox } from './inbox.ts';
import type { SqliteDatabase, SqliteOutbox } from './outbox.ts';

/** Options of {@link sqliteUnitOfWork}. */
export interface SqliteUnitOfWorkOptions {
  readonly inbox: SqliteInbox;
  /** The outbox for emitted events; it must be on the inbox's connection (one transaction). Its `source` is used. */
  readonly outbox: SqliteOutbox;
}

// One turn-taking queue per connection, shared by every unit of work on it.
const queues = new WeakMap<SqliteDatabase, Promise<unknown>>();

/**
 * Core's {@link UnitOfWork} on a better-sqlite3 connection: each unit is `BEGIN IMMEDIATE … COMMIT` (`ROLLBACK` on
 * a throw) holding the inbox record, the state change written through `tx` (the connection) and the outbox rows.
 *
 * better-sqlite3 is synchronous and has one connection, while the work is asynchronous, so the transaction stays
 * open across the work's `await`s. Two rules make that safe:
 * - the units of work of this process on one connection take turns (a queue): a second `BEGIN` inside the first
 *   would fail or, worse, mix two units;
 * - other code on the connection must not write while a unit is open: the outbox relay waits while
 *   `db.inTransaction`; do not share the connection with the SQLite transport's writes. Keep the work short: a
 *   unit awaiting something slow (an HTTP call) holds the write lock, and every other unit waits, meanwhile.
 *
 * `IMMEDIATE` takes the write lock at `BEGIN`, so several processes on one file never fail on a read-to-write
 * upgrade; a process finding the lock taken waits the connection's `busy_timeout`. A duplicate delivery, in this
 * process or another, finds the inbox record of the first and does not run. Throws `HERALD_CONFIG` when the
 * inbox and outbox are on different connections.
 */
export function sqliteUnitOfWork(options: SqliteUnitOfWorkOptions): UnitOfWork<SqliteDatabase> {
  const { inbox, outbox } = options;
  if (typeof inbox?.record !== 'function') throw configError('inbox', 'a sqliteInbox', typeof inbox);
  if (typeof outbox?.addRecords !== 'function') throw configError('outbox', 'a sqliteOutbox', typeof outbox);
  if (inbox.db !== outbox.db) {
    throw configError(
      'outbox',
      "an outbox on the inbox's database connection (one transaction)",
      outbox.table,
    );
  }
  const { db } = inbox;

  function transaction<T>(work: (tx: SqliteDatabase) => Promise<T>): Promise<T> {
    const turn = async (): Promise<T> => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(db);
        db.exec('COMMIT');
        return result;
      } catch (error) {
        // A failed statement may have ended the transaction already (SQLite rolls back on some errors).
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    };
    const previous = queues.get(db) ?? Promise.resolve();
    const result = previous.then(turn);
    queues.set(
      db,
      result.catch(() => undefined),
    );
    return result;
  }

  return createUnitOfWork<SqliteDatabase>(
    {
      transaction,
      claim: (_tx, group, eventId) => Promise.resolve(inbox.record(group, eventId)),
      append(_tx, records) {
        outbox.addRecords(records);
        return Promise.resolve();
      },
    },
    { source: outbox.source },
  );
}
