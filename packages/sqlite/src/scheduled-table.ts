import type { ReleaseResult, TransportRecord } from '@herald/core';
import type { SqliteDatabase } from './sqlite-schema.ts';

/**
 * Names of one scheduled table. Both users keep the layout they have always written to disk: the log's
 * `scheduled` (hold time in `held_at`, index `scheduled_by_due`) and an outbox's `<table>_scheduled` (hold time
 * in `created_at`, index `<table>_scheduled_due`).
 */
export interface ScheduledTableLayout {
  /** The table. A plain SQL identifier: it is spliced into SQL. */
  readonly table: string;
  /** The column of the time a row was held, in ms since the epoch. */
  readonly heldAtColumn: string;
  /** The index on `(due_at, seq)` that due reads use. */
  readonly dueIndex: string;
}

/** A held row as stored: attributes still JSON, so a caller can write them on unchanged. */
export interface HeldRow {
  readonly topic: string;
  readonly key: string | null;
  readonly attributes: string;
  readonly data: Buffer;
}

interface DueRow extends HeldRow {
  readonly seq: number;
}

/**
 * The `CREATE ... IF NOT EXISTS` statements of a scheduled table and its due index. `seq` is AUTOINCREMENT: it
 * only grows, so rows due at the same time are released in the order they were held.
 */
export function scheduledTableSql(layout: ScheduledTableLayout): string {
  const { table, heldAtColumn, dueIndex } = layout;
  return `CREATE TABLE IF NOT EXISTS ${table} (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  key TEXT,
  attributes TEXT NOT NULL,
  data BLOB NOT NULL,
  due_at INTEGER NOT NULL,
  ${heldAtColumn} INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ${dueIndex} ON ${table} (due_at, seq);`;
}

/**
 * Records held until their due time in one scheduled table (created beforehand, see {@link scheduledTableSql}):
 * a full copy of each record with its due time. Holding runs in the caller's transaction; releasing deletes the
 * due rows and hands them to the caller in one transaction, so a row leaves the table exactly when it arrives
 * where the caller writes it.
 */
export class ScheduledTable {
  readonly #insert;
  readonly #due;
  readonly #delete;
  readonly #next;
  readonly #count;
  readonly #releaseTx;

  constructor(db: SqliteDatabase, layout: ScheduledTableLayout) {
    const { table, heldAtColumn } = layout;
    this.#insert = db.prepare<[string, string | null, string, Uint8Array, number, number]>(
      `INSERT INTO ${table} (topic, key, attributes, data, due_at, ${heldAtColumn}) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.#due = db.prepare<[number, number], DueRow>(
      `SELECT seq, topic, key, attributes, data FROM ${table} WHERE due_at <= ? ORDER BY due_at, seq LIMIT ?`,
    );
    this.#delete = db.prepare<[number]>(`DELETE FROM ${table} WHERE seq = ?`);
    this.#next = db.prepare<[], number>(`SELECT due_at FROM ${table} ORDER BY due_at LIMIT 1`).pluck();
    this.#count = db.prepare<[], number>(`SELECT count(*) FROM ${table}`).pluck();
    this.#releaseTx = db.transaction(
      (now: number, limit: number, deliver: (rows: readonly HeldRow[]) => void): ReleaseResult => {
        const rows = this.#due.all(now, limit);
        for (const row of rows) this.#delete.run(row.seq);
        deliver(rows);
        return { released: rows.length, nextDue: this.nextDue() };
      },
    );
  }

  /** Holds a copy of the record until `dueAt` (ms since the epoch); `now` is stored as its hold time. */
  hold(record: TransportRecord, dueAt: number, now: number): void {
    this.#insert.run(
      record.topic,
      record.key ?? null,
      JSON.stringify(record.attributes),
      record.data,
      Math.floor(dueAt),
      now,
    );
  }

  /**
   * Deletes up to `limit` rows due at or before `now` (earliest due first, then in hold order) and passes them to
   * `deliver`, in one `BEGIN IMMEDIATE` transaction (a savepoint inside an open one): if `deliver` throws, every
   * row stays held. Of several processes releasing at once, each row goes to exactly one. Cheap when nothing is
   * due: one indexed read, no write transaction. `nextDue` is read in the same transaction.
   */
  release(now: number, limit: number, deliver: (rows: readonly HeldRow[]) => void): ReleaseResult {
    const next = this.nextDue();
    if (next === undefined || next > now) return { released: 0, nextDue: next };
    // IMMEDIATE: the write lock is taken at BEGIN, so a release in another process cannot fail on a
    // read-to-write upgrade.
    return this.#releaseTx.immediate(now, limit, deliver);
  }

  /** The due time of the earliest held row, if any. */
  nextDue(): number | undefined {
    return this.#next.get();
  }

  /** How many rows are held. */
  count(): number {
    return this.#count.get()!;
  }
}
