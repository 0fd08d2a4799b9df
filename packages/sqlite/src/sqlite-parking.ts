import type { ErrorInfo, ParkedRecord, StoredRecord, TopicPartition } from '@herald/core';
import { RECORD_COLUMNS, recordFromRow, recordParams, type RecordRow } from './sqlite-rows.ts';
import type { SqliteDatabase } from './sqlite-schema.ts';

interface ParkedRow extends RecordRow {
  readonly park_id: number;
  readonly grp: string;
  readonly attempt: number;
  readonly due_at: number;
}

/**
 * Records parked for delayed redelivery to one group. A parked record is a full copy, so it outlives the
 * retention of the log it came from; `park_id` (AUTOINCREMENT) only grows, which gives park order.
 */
export class ParkingLot {
  readonly #insert;
  readonly #select;
  readonly #reschedule;
  readonly #delete;

  constructor(db: SqliteDatabase) {
    this.#insert = db.prepare(
      `INSERT INTO parked (grp, ${RECORD_COLUMNS}, attempt, due_at, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#select = db.prepare<[string, string, number], ParkedRow>(
      `SELECT park_id, grp, ${RECORD_COLUMNS}, attempt, due_at FROM parked
       WHERE grp = ? AND topic = ? AND part = ? ORDER BY park_id`,
    );
    this.#reschedule = db.prepare<[number, number, string | null, number]>(
      'UPDATE parked SET attempt = ?, due_at = ?, error = ? WHERE park_id = ?',
    );
    this.#delete = db.prepare<[number]>('DELETE FROM parked WHERE park_id = ?');
  }

  /** Parks a copy of the record for the group. */
  park(group: string, record: StoredRecord, attempt: number, dueAt: number, error?: ErrorInfo): void {
    this.#insert.run(
      group,
      ...recordParams(record),
      attempt,
      Math.floor(dueAt),
      error === undefined ? null : JSON.stringify(error),
    );
  }

  /** The group's parked records in the partitions, oldest park first. */
  parked(group: string, partitions: readonly TopicPartition[]): ParkedRecord[] {
    const found: ParkedRecord[] = [];
    for (const tp of partitions) {
      for (const row of this.#select.all(group, tp.topic, tp.partition)) {
        found.push({
          parkId: BigInt(row.park_id),
          group: row.grp,
          record: recordFromRow(row),
          attempt: row.attempt,
          dueAt: row.due_at,
        });
      }
    }
    return found.sort((a, b) => (a.parkId < b.parkId ? -1 : a.parkId > b.parkId ? 1 : 0));
  }

  /** Sets the next attempt and due time, keeping the record's place in park order. */
  reschedule(parkId: bigint, attempt: number, dueAt: number, error?: ErrorInfo): void {
    this.#reschedule.run(
      attempt,
      Math.floor(dueAt),
      error === undefined ? null : JSON.stringify(error),
      Number(parkId),
    );
  }

  /** Removes a parked record (delivered and settled). */
  unpark(parkId: bigint): void {
    this.#delete.run(Number(parkId));
  }
}
