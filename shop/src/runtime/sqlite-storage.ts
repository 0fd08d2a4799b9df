import { outboxBacklog } from '@herald/telemetry';
import { runHandling } from '@herald/core';
import { outboxRelay, sqliteInbox, sqliteOutbox, type SqliteDatabase } from '@herald/sqlite';
import type { ServiceStorage, StorageOptions, Tx } from './storage.ts';

/**
 * Storage on the service's own SQLite file (better-sqlite3, synchronous), behind the same asynchronous interface
 * as PostgreSQL so the services are written once.
 *
 * A transaction is `BEGIN IMMEDIATE … COMMIT` on the service's one connection, held across the `await`s of the
 * work. Two rules make that safe:
 * - transactions of this process take turns (a queue): better-sqlite3 has one connection, and a second `BEGIN`
 *   inside the first would fail or, worse, mix two units of work;
 * - the work awaits nothing but the store and the outbox, which are synchronous here, so a transaction runs to
 *   its end within one turn of the event loop. Other code on the connection (the relay) checks
 *   `db.inTransaction` and waits.
 *
 * `IMMEDIATE` takes the write lock at `BEGIN`, so several processes on one file (payment instances sharing their
 * state) never fail on a read-to-write upgrade; a process that finds the lock taken waits `busy_timeout`.
 */
export function sqliteStorage<S>(options: StorageOptions<S>, db: SqliteDatabase): ServiceStorage<S> {
  const { transport, source, log } = options;
  const store = options.stores.sqlite(db);
  const outbox = sqliteOutbox({ db, source });
  const inbox = sqliteInbox({ db });
  const relay = outboxRelay({
    outbox,
    transport,
    onError: (error, failures) => log.warn('outbox relay: publish failed, retrying', { failures, error }),
    ...options.relay,
  });
  const tx: Tx<S> = {
    store,
    // A validation error becomes a rejection, as on PostgreSQL.
    emit: (definition, data) => new Promise((resolve) => resolve(outbox.emit(definition, data))),
  };

  let queue: Promise<unknown> = Promise.resolve();
  function inTransaction<T>(work: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work();
        db.exec('COMMIT');
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    };
    const turn = queue.then(run, run);
    queue = turn.catch(() => undefined);
    return turn;
  }

  return {
    kind: 'sqlite',
    location: db.name,
    store,
    transaction: (work) => inTransaction(() => work(tx)),
    once: (group, event, work) =>
      runHandling(event, () =>
        inTransaction(async () => {
          // Inside our transaction `once` is a savepoint: the claim commits or rolls back with the work.
          if (!inbox.once(group, event.id, () => undefined)) return false;
          await work(tx);
          return true;
        }),
      ),
    start() {
      relay.start();
      return Promise.resolve();
    },
    close: () => relay.close(),
    pending: () => Promise.resolve(outbox.pending()),
    relayFailures: () => relay.stats.consecutiveFailures,
    backlog: outboxBacklog(outbox),
  };
}
