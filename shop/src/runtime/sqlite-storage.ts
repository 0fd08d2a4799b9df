import { outboxBacklog } from '@herald/telemetry';
import { mapUnitOfWork } from '@herald/core';
import {
  outboxRelay,
  sqliteInbox,
  sqliteOutbox,
  sqliteUnitOfWork,
  type SqliteDatabase,
} from '@herald/sqlite';
import type { ServiceStorage, StorageOptions } from './storage.ts';

/**
 * Storage on the service's own SQLite file (better-sqlite3, synchronous), behind the same asynchronous interface
 * as PostgreSQL (`sqliteUnitOfWork`: the units of this process take turns on the connection, each one
 * `BEGIN IMMEDIATE … COMMIT`), so the services are written once. The store is made once, on the connection.
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
  const unit = mapUnitOfWork(sqliteUnitOfWork({ inbox, outbox }), (_db, { emit }) => ({ store, emit }));

  return {
    kind: 'sqlite',
    location: db.name,
    store,
    run: (work) => unit.run(work),
    handle: (group, event, work) => unit.handle(group, event, work),
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
