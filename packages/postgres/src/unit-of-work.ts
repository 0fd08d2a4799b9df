import type { PoolClient } from 'pg';
import { configError, createUnitOfWork, type UnitOfWork } from '@herald/core';
import type { PostgresInbox } from './inbox.ts';
import type { PostgresOutbox } from './outbox.ts';
import { checkIsolation, transaction, type TransactionOptions } from './transaction.ts';

/** Options of {@link postgresUnitOfWork}. */
export interface PostgresUnitOfWorkOptions {
  readonly inbox: PostgresInbox;
  /** The outbox for emitted events; it must be on the inbox's pool (one transaction). Its `source` is used. */
  readonly outbox: PostgresOutbox;
  /** The transactions' isolation level. Default: the database's default (`read committed` unless configured). */
  readonly isolation?: TransactionOptions['isolation'];
}

/**
 * Core's {@link UnitOfWork} on PostgreSQL: each unit is one {@link transaction} on a client of the pool, holding
 * the inbox record, the state change written through `tx` (the transaction's client, also
 * `currentTransaction()` inside the work) and the outbox rows, which wake the relays at commit. Units run
 * concurrently, each on its own client. The inbox record is inserted first: a concurrent delivery of the same
 * event waits on it, then sees it recorded and does not run (or runs, if the first rolled back). Throws
 * `HERALD_CONFIG` when the inbox and outbox are on different pools; database failures reject with
 * `HERALD_TRANSPORT`, errors thrown by the work pass through unchanged.
 */
export function postgresUnitOfWork(options: PostgresUnitOfWorkOptions): UnitOfWork<PoolClient> {
  const { inbox, outbox } = options;
  if (typeof inbox?.record !== 'function') throw configError('inbox', 'a postgresInbox', typeof inbox);
  if (typeof outbox?.addRecords !== 'function')
    throw configError('outbox', 'a postgresOutbox', typeof outbox);
  if (inbox.pool !== outbox.pool) {
    throw configError('outbox', "an outbox on the inbox's pool (one transaction)", outbox.schema);
  }
  checkIsolation(options.isolation);
  const transactionOptions: TransactionOptions =
    options.isolation === undefined ? {} : { isolation: options.isolation };
  return createUnitOfWork<PoolClient>(
    {
      transaction: (work) => transaction(inbox.pool, work, transactionOptions),
      claim: (client, group, eventId) => inbox.record(client, group, eventId),
      append: (client, records) => outbox.addRecords(client, records),
    },
    { source: outbox.source },
  );
}
