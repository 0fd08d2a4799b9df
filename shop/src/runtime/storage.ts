import type { OutboxBacklogSource } from '@herald/telemetry';
import type pg from 'pg';
import type { Transport, UnitOfWork, UnitOfWorkScope } from '@herald/core';
import type { Queryable } from '@herald/postgres';
import type { SqliteDatabase } from '@herald/sqlite';
import type { Logger } from './logger.ts';
import { postgresStorage } from './postgres-storage.ts';
import { sqliteStorage } from './sqlite-storage.ts';

/**
 * Where a service keeps its state, outbox and inbox: its own SQLite file (the default), or its own schema in
 * PostgreSQL (`DATABASE_URL`). Whoever opens it closes it (see `database.ts`).
 */
export type Database =
  | { readonly kind: 'sqlite'; readonly db: SqliteDatabase }
  | { readonly kind: 'postgres'; readonly pool: pg.Pool; readonly schema: string };

/**
 * One transaction of a service: its store and its outbox, both inside the transaction (core's
 * {@link UnitOfWork} with the store bound to the transaction).
 */
export interface Tx<S> {
  /** The service's tables, read and written in this transaction (rows read are locked until it ends). */
  readonly store: S;
  /** The outbox in this transaction: see {@link UnitOfWorkScope.emit}. A plain function: it can be destructured. */
  readonly emit: UnitOfWorkScope['emit'];
}

/**
 * How a service's store is made on each backend: the only code that differs between SQLite and PostgreSQL. The
 * business rules are written once, against `S`, in the service.
 */
export interface StoreBackends<S> {
  /** Creates the tables if missing and returns the store on this connection (better-sqlite3: synchronous). */
  sqlite(db: SqliteDatabase): S;
  /** Creates the tables in `schema` if missing. Runs at start-up in a transaction, under a lock per schema. */
  postgresSchema(client: Queryable, schema: string): Promise<void>;
  /**
   * The store on `queryable`: a transaction's client (`inTransaction`: reads lock the rows they return, `FOR
   * UPDATE`, so concurrent handlers of one order serialise) or the pool (plain reads).
   */
  postgres(queryable: Queryable, schema: string, inTransaction: boolean): S;
}

/** The outbox relay's tunables the shop exposes (tests shorten the poll interval). */
export interface RelayOverrides {
  readonly pollIntervalMs?: number;
}

/** Options of {@link openStorage}. */
export interface StorageOptions<S> {
  readonly database: Database;
  readonly stores: StoreBackends<S>;
  /** CloudEvents `source` of the events the service emits. */
  readonly source: string;
  /** Where the relay publishes the outbox. */
  readonly transport: Transport;
  readonly log: Logger;
  readonly relay?: RelayOverrides;
}

/**
 * A service's state, outbox and inbox on one database: core's {@link UnitOfWork} on `sqliteUnitOfWork` or
 * `postgresUnitOfWork` with the service's store bound to each transaction (`run` for a command such as placing an
 * order, `handle` for a handler; `unitOfWorkHandler` makes a router handler of it), and the outbox relay. Both
 * backends give the same guarantees: every transaction is atomic (state + inbox record + emitted events), and a
 * relay publishes the outbox in commit order per key, at least once.
 */
export interface ServiceStorage<S> extends UnitOfWork<Tx<S>> {
  readonly kind: Database['kind'];
  /** For logs: the file, or the schema. */
  readonly location: string;
  /**
   * The store outside any transaction, for reads (HTTP views, tests). Write through `run`: on SQLite the
   * connection is shared, and a write from here could land in another unit of work's transaction.
   */
  readonly store: S;
  /** Starts the outbox relay. */
  start(): Promise<void>;
  /** Stops the relay (the batch in flight finishes). The database stays open: its owner closes it. */
  close(): Promise<void>;
  /** Events waiting in the outbox. */
  pending(): Promise<number>;
  /** Consecutive failed publishes of the relay (0 when the last one succeeded). */
  relayFailures(): number;
  /** The outbox's backlog (rows waiting and the oldest one's time), for `herald_outbox_*` metrics. */
  readonly backlog: OutboxBacklogSource;
}

/** Opens the service's storage on its database (SQLite or PostgreSQL). */
export async function openStorage<S>(options: StorageOptions<S>): Promise<ServiceStorage<S>> {
  const { database } = options;
  return database.kind === 'sqlite'
    ? sqliteStorage(options, database.db)
    : postgresStorage(options, database.pool, database.schema);
}
