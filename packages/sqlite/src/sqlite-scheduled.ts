import type { TransportRecord } from '@herald/core';
import type { SqliteDatabase } from './sqlite-schema.ts';

interface HeldRow {
  readonly seq: number;
  readonly topic: string;
  readonly key: string | null;
  readonly attributes: string;
  readonly data: Buffer;
}

/**
 * Records held until their `deliverat` time, in the `scheduled` table: a full copy of each record with its due
 * time. `seq` (AUTOINCREMENT) only grows, so records due at the same time are released in the order they were
 * held. Holding is part of the append's transaction; releasing is part of the transaction that appends them.
 */
export class ScheduledRecords {
  readonly #insert;
  readonly #due;
  readonly #delete;
  readonly #next;
  readonly #count;

  constructor(db: SqliteDatabase) {
    this.#insert = db.prepare<[string, string | null, string, Uint8Array, number, number]>(
      'INSERT INTO scheduled (topic, key, attributes, data, due_at, held_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#due = db.prepare<[number, number], HeldRow>(
      'SELECT seq, topic, key, attributes, data FROM scheduled WHERE due_at <= ? ORDER BY due_at, seq LIMIT ?',
    );
    this.#delete = db.prepare<[number]>('DELETE FROM scheduled WHERE seq = ?');
    this.#next = db.prepare<[], number>('SELECT due_at FROM scheduled ORDER BY due_at LIMIT 1').pluck();
    this.#count = db.prepare<[], number>('SELECT count(*) FROM scheduled').pluck();
  }

  /** Holds a copy of the record until `dueAt` (ms since the epoch). */
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
   * Removes and returns up to `limit` records due at or before `now`, earliest due first. Call it inside the
   * transaction that appends them, so a record leaves the table exactly when it enters the log.
   */
  take(now: number, limit: number): TransportRecord[] {
    return this.#due.all(now, limit).map((row) => {
      this.#delete.run(row.seq);
      return {
        topic: row.topic,
        key: row.key ?? undefined,
        attributes: JSON.parse(row.attributes) as Record<string, string>,
        data: row.data,
      };
    });
  }

  /** The due time of the earliest held record, if any. */
  nextDue(): number | undefined {
    return this.#next.get();
  }

  /** How many records are held. */
  count(): number {
    return this.#count.get()!;
  }
}
