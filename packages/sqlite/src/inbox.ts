import {
  configError,
  runHandling,
  type CloudEvent,
  type EventData,
  type EventDefinition,
  type EventInput,
  type Handler,
  type Inbox,
  type PublishOptions,
} from '@herald/core';
import { checkTableName, type SqliteDatabase, type SqliteOutbox } from './outbox.ts';

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
  /** True when `(group, eventId)` is recorded. */
  has(group: string, eventId: string): boolean;
  /**
   * Core's {@link Inbox}, for asynchronous work (e.g. with the `idempotency` middleware). Weaker than
   * {@link SqliteInbox.once}: the pair is recorded after `work` resolves, in its own transaction, so if the
   * process dies in between, `work` runs again on redelivery. Concurrent calls for one pair in this process wait
   * for each other. Use `once` or {@link unitOfWork} when the effects are in this database.
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

/** What the work of a {@link unitOfWork} gets: the database and the outbox, both inside its transaction. */
export interface UnitOfWork {
  readonly db: SqliteDatabase;
  /** The event being handled. */
  readonly event: CloudEvent;
  /**
   * Stores a follow-up event in the outbox, in this transaction, with correlation and causation taken from the
   * handled event (see {@link SqliteOutbox.emit}). A plain function: it can be destructured.
   */
  readonly emit: <D extends EventDefinition>(
    definition: D,
    data: EventInput<D>,
    options?: PublishOptions,
  ) => CloudEvent<EventData<D>>;
}

/** Options of {@link unitOfWork}. */
export interface UnitOfWorkOptions {
  readonly inbox: SqliteInbox;
  /** The outbox for follow-up events; it must be on the inbox's connection (one transaction). */
  readonly outbox: SqliteOutbox;
}

/** Runs handlers as one transaction each: see {@link unitOfWork}. */
export interface UnitOfWorkRunner {
  /**
   * Runs `work` for `event` in ONE transaction with the inbox record of `(group, event.id)` and every event
   * `work` emits. Returns `false` (nothing run) for a duplicate. If `work` throws, nothing commits.
   */
  run(group: string, event: CloudEvent, work: (uow: UnitOfWork) => void): boolean;
  /**
   * A router handler doing {@link UnitOfWorkRunner.run} with the router's group. A throw rolls back and fails the
   * delivery (retry, redelivery, dead-letter); a redelivery after success is acked without running `work`.
   */
  handler<D extends EventDefinition>(
    work: (event: CloudEvent<EventData<D>>, uow: UnitOfWork) => void,
  ): Handler<D>;
}

/**
 * The whole unit of work of a handler in one SQLite transaction: inbox check, the state change, and the outbox
 * writes of follow-up events. Effects in this database happen exactly once per `(group, event id)`, and
 * follow-up events are published if and only if the state change committed (at least once, by the relay).
 */
export function unitOfWork(options: UnitOfWorkOptions): UnitOfWorkRunner {
  const { inbox, outbox } = options;
  if (inbox.db !== outbox.db) {
    throw configError(
      'outbox',
      "an outbox on the inbox's database connection (one transaction)",
      outbox.table,
    );
  }
  const runner: UnitOfWorkRunner = {
    run(group, event, work) {
      const uow: UnitOfWork = {
        db: inbox.db,
        event,
        emit: (definition, data, publishOptions) => outbox.emit(definition, data, publishOptions),
      };
      return runHandling(event, () => inbox.once(group, event.id, () => work(uow)));
    },
    handler(work) {
      return (event, context) => {
        runner.run(context.group, event, (uow) => work(event, uow));
      };
    },
  };
  return runner;
}
