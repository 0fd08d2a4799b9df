import { randomUUID } from 'node:crypto';
import {
  ErrorCodes,
  HeraldError,
  replayedRecord,
  type ReplayOptions,
  type DeadLetter,
  type DeadLetterFailure,
  type DeadLetterQuery,
  type StoredRecord,
} from '@herald/core';
import type { ParkingLot } from './sqlite-parking.ts';
import { RECORD_COLUMNS, recordFromRow, recordParams, type RecordRow } from './sqlite-rows.ts';
import type { SqliteDatabase } from './sqlite-schema.ts';

interface DeadLetterRow extends RecordRow {
  readonly id: string;
  readonly grp: string;
  readonly failure: string;
  readonly dead_lettered_at: number;
}

/** Default page size of {@link DeadLetterStore.list}. */
export const DEFAULT_DEAD_LETTER_LIMIT = 100;

const SELECT = `SELECT id, grp, ${RECORD_COLUMNS}, failure, dead_lettered_at FROM dead_letters`;

function deadLetterFromRow(row: DeadLetterRow): DeadLetter {
  const stored = recordFromRow(row);
  return {
    id: row.id,
    group: row.grp,
    record: { topic: stored.topic, key: stored.key, attributes: stored.attributes, data: stored.data },
    partition: stored.partition,
    offset: stored.offset.toString(),
    failure: JSON.parse(row.failure) as DeadLetterFailure,
    deadLetteredAt: new Date(row.dead_lettered_at).toISOString(),
  };
}

/**
 * Per-group dead-letter queues: a full copy of each record with its failure, under a random UUID. A replay
 * parks the record for its group only, so the other groups of the topic never see it again.
 */
export class DeadLetterStore {
  readonly #parking: ParkingLot;
  readonly #insert;
  readonly #list;
  readonly #get;
  readonly #delete;
  readonly #replayTx;

  constructor(db: SqliteDatabase, parking: ParkingLot) {
    this.#parking = parking;
    this.#insert = db.prepare(
      `INSERT INTO dead_letters (id, grp, ${RECORD_COLUMNS}, failure, dead_lettered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#list = db.prepare<
      [string | null, string | null, string | null, string | null, number],
      DeadLetterRow
    >(`${SELECT} WHERE (? IS NULL OR grp = ?) AND (? IS NULL OR topic = ?) ORDER BY seq LIMIT ?`);
    this.#get = db.prepare<[string], DeadLetterRow>(`${SELECT} WHERE id = ?`);
    this.#delete = db.prepare<[string]>('DELETE FROM dead_letters WHERE id = ?');
    this.#replayTx = db.transaction((id: string, options: ReplayOptions) => {
      const row = this.#get.get(id);
      if (row === undefined) throw notFound(id);
      const record: StoredRecord = recordFromRow(row);
      this.#parking.park(row.grp, replayedRecord(record, options), 1, Date.now());
      this.#delete.run(id);
    });
  }

  /** Stores a copy of the record in the group's queue; returns the dead letter's id. */
  add(group: string, record: StoredRecord, failure: DeadLetterFailure): string {
    const id = randomUUID();
    this.#insert.run(id, group, ...recordParams(record), JSON.stringify(failure), Date.now());
    return id;
  }

  /** Dead letters, oldest first, filtered by group and topic; at most `limit` (default 100). */
  list(query: DeadLetterQuery = {}): DeadLetter[] {
    const group = query.group ?? null;
    const topic = query.topic ?? null;
    const limit = query.limit ?? DEFAULT_DEAD_LETTER_LIMIT;
    return this.#list.all(group, group, topic, topic, limit).map(deadLetterFromRow);
  }

  get(id: string): DeadLetter | undefined {
    const row = this.#get.get(id);
    return row === undefined ? undefined : deadLetterFromRow(row);
  }

  /**
   * Atomically removes the dead letter and parks its record for its group, due now, attempt 1, with `data`
   * and attributes as `options` say. Throws `HERALD_DEAD_LETTER_NOT_FOUND` if the id is not in the queue.
   */
  replay(id: string, options: ReplayOptions = {}): void {
    this.#replayTx.immediate(id, options);
  }

  /** Removes the dead letter. Throws `HERALD_DEAD_LETTER_NOT_FOUND` if the id is not in the queue. */
  discard(id: string): void {
    if (this.#delete.run(id).changes === 0) throw notFound(id);
  }
}

function notFound(id: string): HeraldError {
  return new HeraldError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${id}`, {
    details: { id },
  });
}
