// The PostgreSQL outbox (outbox.ts), its relay (relay.ts), the inbox (inbox.ts) and the unit of work
// (unit-of-work.ts), on `pg`.
export { channelFor, ensureSchema } from './schema.ts';
export {
  currentTransaction,
  transaction,
  type IsolationLevel,
  type Queryable,
  type TransactionOptions,
} from './transaction.ts';
export { postgresOutbox, type OutboxRow, type PostgresOutbox, type PostgresOutboxOptions } from './outbox.ts';
export {
  postgresOutboxRelay,
  type PostgresOutboxRelayStats,
  type PostgresOutboxRelay,
  type PostgresOutboxRelayOptions,
} from './relay.ts';
export { postgresInbox, type PostgresInbox, type PostgresInboxOptions } from './inbox.ts';
export { postgresUnitOfWork, type PostgresUnitOfWorkOptions } from './unit-of-work.ts';
