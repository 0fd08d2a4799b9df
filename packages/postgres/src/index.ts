// The PostgreSQL outbox (outbox.ts), its relay (relay.ts), the inbox and the unit of work (inbox.ts), on `pg`.
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
export {
  postgresInbox,
  postgresUnitOfWork,
  type PostgresInbox,
  type PostgresInboxOptions,
  type PostgresUnitOfWork,
  type PostgresUnitOfWorkOptions,
  type PostgresUnitOfWorkRunner,
} from './inbox.ts';
