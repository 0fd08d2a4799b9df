import type BetterSqlite3 from 'better-sqlite3';
import {
  configError,
  createEventSync,
  encodeEvent,
  recordDueAt,
  DELIVER_AT_ATTRIBUTE,
  type CloudEvent,
  type EventData,
  type EventDefinition,
  type EventInput,
  type PublishOptions,
  type TransportRecord,
} from '@herald/core';
import { ScheduledTable, scheduledTableSql } from './scheduled-table.ts';

/** A better-sqlite3 connection. */
export type SqliteDatabase = BetterSqlite3.Database;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a table name option: it is spliced into SQL, so only plain identifiers are accepted. */
export function checkTableName(option: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw configError(option, 'a plain SQL identifier (letters, digits, "_")', name);
  }
}

/** One waiting outbox row, as the relay reads it. */
export interface OutboxRow {
  /** Position in the outbox; the relay publishes in `seq` order. */
  readonly seq: number;
  readonly record: TransportRecord;
  /** When the row was added, in ms since the epoch. */
  readonly createdAt: number;
}

/** Options of {@link sqliteOutbox}. */
export interface SqliteOutboxOptions {
  /** The service's own database: the outbox table lives next to its state. */
  readonly db: SqliteDatabase;
  /** CloudEvents `source` of events built by {@link SqliteOutbox.emit} (e.g. `/shop/order-service`). */
  readonly source?: string;
  /** Table name. Default `herald_outbox`. Created if missing, with `<table>_scheduled` for held rows. */
  readonly table?: string;
}

/**
 * A transactional outbox in the service's SQLite database. Writes are synchronous, like better-sqlite3: call
 * {@link SqliteOutbox.add} or {@link SqliteOutbox.emit} inside your `db.transaction(...)` and the event is stored
 * if and only if your state change commits. An {@link outboxRelay} then publishes the rows in `seq` order, at
 * least once. An event due later (`deliverAt`/`delay`, the `deliverat` attribute in the future) is held in
 * `<table>_scheduled`, with the same atomicity, until the relay moves it to the outbox table when it is due; it is
 * not ordered with the other rows of its key.
 */
export interface SqliteOutbox {
  readonly db: SqliteDatabase;
  readonly table: string;
  /** The `source` of events built by {@link SqliteOutbox.emit}, if one was given. */
  readonly source: string | undefined;
  /**
   * Stores an event (built with `createEvent`) for `topic`. Atomic with the caller's transaction: if it rolls
   * back, the event is never published. Outside a transaction the row commits on its own.
   */
  add(topic: string, event: CloudEvent): void;
  /** Stores already-encoded records, in order, with the same guarantee as {@link SqliteOutbox.add}. */
  addRecords(records: readonly TransportRecord[]): void;
  /**
   * Validates `data` against the definition's schema synchronously, builds the event and stores it, with the
   * guarantee of {@link SqliteOutbox.add}. Inside a handler (or a `sqliteUnitOfWork`) the event takes its correlation
   * and causation from the event being handled. Throws `HERALD_VALIDATION` (so the transaction rolls back) for
   * invalid data, and `HERALD_UNSUPPORTED` for a schema that only validates asynchronously (then build the event
   * with `createEvent` before the transaction and use `add`).
   */
  emit<D extends EventDefinition>(
    definition: D,
    data: EventInput<D>,
    options?: PublishOptions,
  ): CloudEvent<EventData<D>>;
  /** Rows waiting to be published (in the outbox table; held rows not included, see {@link SqliteOutbox.scheduled}). */
  pending(): number;
  /**
   * Rows held for a due time (in `<table>_scheduled`): those not due yet, and those whose time has come but that no
   * relay has moved to the outbox table yet (a relay does so before each batch). A row is counted by exactly one
   * of `pending()` and `scheduled()` until it is published: the move is one transaction.
   */
  scheduled(): number;
  /**
   * Moves up to `limit` held rows that are due (oldest due time first) to the outbox table in one transaction,
   * so a crash leaves each either held or in the outbox, never both or neither; returns how many moved. A moved
   * row keeps its `deliverat` attribute (now in the past), so any transport accepts it. The relay calls it
   * before each batch.
   */
  releaseDue(limit: number): number;
  /** Milliseconds until the earliest held row is due (0 when one is due now); `undefined` when none is held. */
  nextDueInMs(): number | undefined;
  /** The oldest waiting rows, in `seq` order. */
  peek(limit: number): OutboxRow[];
  /** Deletes the rows from `fromSeq` to `toSeq` (published). Returns how many were deleted. */
  remove(fromSeq: number, toSeq: number): number;
  /**
   * Calls `listener` after rows were added in this process, once the current synchronous code (the caller's
   * transaction) has finished, so a relay wakes at once instead of at its next poll. Returns the unsubscribe.
   */
  onAdd(listener: () => void): () => void;
}

interface RawRow {
  seq: number;
  topic: string;
  key: string | null;
  attributes: string;
  data: Buffer;
  created_at: number;
}

/**
 * Creates (if missing) and opens the outbox table in `db`. See {@link SqliteOutbox} for the guarantee; pair it
 * with one {@link outboxRelay}.
 */
export function sqliteOutbox(options: SqliteOutboxOptions): SqliteOutbox {
  const { db, source } = options;
  const table = options.table ?? 'herald_outbox';
  checkTableName('table', table);
  if (source !== undefined && (typeof source !== 'string' || source.length === 0)) {
    throw configError('source', 'a non-empty URI reference such as "/shop/order-service"', source);
  }
  // AUTOINCREMENT: a seq is never reused after the relay deletes rows, so "delete up to seq" is always safe.
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT,
    attributes TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL
  )`);
  const insert = db.prepare<[string, string | null, string, Uint8Array, number]>(
    `INSERT INTO ${table} (topic, key, attributes, data, created_at) VALUES (?, ?, ?, ?, ?)`,
  );
  const count = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`);
  const head = db.prepare<[number], RawRow>(
    `SELECT seq, topic, key, attributes, data, created_at FROM ${table} ORDER BY seq LIMIT ?`,
  );
  const del = db.prepare<[number, number]>(`DELETE FROM ${table} WHERE seq BETWEEN ? AND ?`);
  // Held rows wait in `<table>_scheduled`; once due they are written with the outbox's own insert, so a released
  // row is stored exactly as `add` stores one.
  const heldLayout = {
    table: `${table}_scheduled`,
    heldAtColumn: 'created_at',
    dueIndex: `${table}_scheduled_due`,
  };
  db.exec(scheduledTableSql(heldLayout));
  const held = new ScheduledTable(db, heldLayout);
  const listeners = new Set<() => void>();
  let notifyScheduled = false;

  function notify(): void {
    if (notifyScheduled || listeners.size === 0) return;
    notifyScheduled = true;
    // A microtask runs after the caller's synchronous transaction has committed (or rolled back).
    queueMicrotask(() => {
      notifyScheduled = false;
      for (const listener of listeners) listener();
    });
  }

  function insertRecord(record: TransportRecord): void {
    const now = Date.now();
    if (record.attributes[DELIVER_AT_ATTRIBUTE] !== undefined) {
      const due = recordDueAt(record);
      if (due !== undefined && due > now) {
        held.hold(record, due, now);
        return;
      }
    }
    insert.run(record.topic, record.key ?? null, JSON.stringify(record.attributes), record.data, now);
  }

  return {
    db,
    table,
    source,
    add(topic, event) {
      insertRecord(encodeEvent(topic, event));
      notify();
    },
    addRecords(records) {
      for (const record of records) insertRecord(record);
      if (records.length > 0) notify();
    },
    emit(definition, data, publishOptions = {}) {
      if (source === undefined)
        throw configError('source', 'a source to build events with (for emit)', source);
      const event = createEventSync(source, definition, data, publishOptions);
      insertRecord(encodeEvent(definition.topic, event));
      notify();
      return event;
    },
    pending() {
      return count.get()!.n;
    },
    scheduled: () => held.count(),
    releaseDue(limit) {
      if (!Number.isInteger(limit) || limit < 1) throw configError('limit', 'an integer >= 1', limit);
      const now = Date.now();
      const { released } = held.release(now, limit, (rows) => {
        for (const row of rows) insert.run(row.topic, row.key, row.attributes, row.data, now);
      });
      if (released > 0) notify();
      return released;
    },
    nextDueInMs() {
      const first = held.nextDue();
      return first === undefined ? undefined : Math.max(0, first - Date.now());
    },
    peek(limit) {
      return head.all(limit).map((row) => ({
        seq: row.seq,
        createdAt: row.created_at,
        record: {
          topic: row.topic,
          key: row.key ?? undefined,
          attributes: JSON.parse(row.attributes) as Record<string, string>,
          data: row.data,
        },
      }));
    },
    remove(fromSeq, toSeq) {
      return del.run(fromSeq, toSeq).changes;
    },
    onAdd(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
