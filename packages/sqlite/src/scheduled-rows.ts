import type BetterSqlite3 from 'better-sqlite3';
import type { TransportRecord } from '@herald/core';
import type { SqliteDatabase } from './outbox.ts';

/** The held rows of one outbox: its `<table>_scheduled` table (see `sqliteOutbox`). */
export interface ScheduledRows {
  /** Stores a record due at `dueAt` (ms since the epoch), in the caller's transaction if one is open. */
  hold(record: TransportRecord, dueAt: number): void;
  /** Moves up to `limit` due rows to the outbox table in one transaction; returns how many. */
  release(limit: number): number;
  /** Milliseconds until the earliest held row is due (0 when one is due now); `undefined` when none is held. */
  nextDueInMs(): number | undefined;
  /** Rows held. */
  count(): number;
}

interface HeldRow {
  seq: number;
  topic: string;
  key: string | null;
  attributes: string;
  data: Buffer;
}

/**
 * Creates (if missing) `<table>_scheduled` next to the outbox table and returns its operations. `insert` is the
 * outbox table's own insert statement (topic, key, attributes JSON, data, created_at), so a released row is
 * written exactly as `add` writes one.
 */
export function scheduledRows(
  db: SqliteDatabase,
  table: string,
  insert: BetterSqlite3.Statement<[string, string | null, string, Uint8Array, number]>,
): ScheduledRows {
  const held = `${table}_scheduled`;
  db.exec(`CREATE TABLE IF NOT EXISTS ${held} (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    key TEXT,
    attributes TEXT NOT NULL,
    data BLOB NOT NULL,
    due_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS ${held}_due ON ${held} (due_at, seq)`);
  const add = db.prepare<[string, string | null, string, Uint8Array, number, number]>(
    `INSERT INTO ${held} (topic, key, attributes, data, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const earliest = db.prepare<[], { due: number | null }>(`SELECT min(due_at) AS due FROM ${held}`);
  const due = db.prepare<[number, number], HeldRow>(
    `SELECT seq, topic, key, attributes, data FROM ${held} WHERE due_at <= ? ORDER BY due_at, seq LIMIT ?`,
  );
  const del = db.prepare<[number]>(`DELETE FROM ${held} WHERE seq = ?`);
  const count = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${held}`);
  // IMMEDIATE: the write lock is taken at BEGIN, so a relay in another process cannot fail on a read-to-write
  // upgrade. Inside an open transaction better-sqlite3 uses a savepoint instead.
  const move = db.transaction((now: number, limit: number): number => {
    const rows = due.all(now, limit);
    for (const row of rows) {
      insert.run(row.topic, row.key, row.attributes, row.data, now);
      del.run(row.seq);
    }
    return rows.length;
  });

  return {
    hold(record, dueAt) {
      add.run(
        record.topic,
        record.key ?? null,
        JSON.stringify(record.attributes),
        record.data,
        dueAt,
        Date.now(),
      );
    },
    release(limit) {
      const now = Date.now();
      const first = earliest.get()!.due;
      if (first === null || first > now) return 0;
      return move.immediate(now, limit);
    },
    nextDueInMs() {
      const first = earliest.get()!.due;
      return first === null ? undefined : Math.max(0, first - Date.now());
    },
    count: () => count.get()!.n,
  };
}
