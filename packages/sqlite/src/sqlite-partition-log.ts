import {
  ErrorCodes,
  HeraldError,
  partitionFor,
  recordDueAt,
  type PublishReceipt,
  type ReleaseResult,
  type StoredRecord,
  type TransportRecord,
} from '@herald/core';
import { MAX_OFFSET, OFFSET_BITS, type SqliteDatabase } from './sqlite-schema.ts';
import type { ScheduledTable } from './scheduled-table.ts';
import { transportRecordFromRow } from './sqlite-rows.ts';
import type { TopicCatalog } from './sqlite-topics.ts';

interface LogRow {
  readonly record_offset: number;
  readonly ts: number;
  readonly key: string | null;
  readonly attributes: string;
  readonly data: Buffer;
}

interface PartitionCursor {
  next: number;
  readonly ts: number;
}

const MASK = MAX_OFFSET;
// The first key of partition `id`, the key of (id, offset), and the first key past partition `id`.
const START = `(? << ${OFFSET_BITS})`;
const AT = `((? << ${OFFSET_BITS}) | ?)`;
const END = `((? + 1) << ${OFFSET_BITS})`;

/**
 * The partitioned log itself: appends, reads and offset look-ups over the `records` table. Offsets of a
 * partition are dense and increasing from 0. The next offset is the newest record's plus one (read in the
 * append's transaction, so no counter row is rewritten on every append); retention removes only a prefix and
 * always keeps the newest record, so offsets are never reused. A record's timestamp never goes below its
 * predecessor's, so offsets can be found by time with a binary search. A record due later (its `deliverat`
 * attribute) is held in the `scheduled` table by the append's transaction instead, and appended by
 * {@link PartitionLog.release} in the transaction that deletes it there.
 */
export class PartitionLog {
  readonly #topics: TopicCatalog;
  readonly #scheduled: ScheduledTable;
  readonly #insert;
  readonly #last;
  readonly #read;
  readonly #first;
  readonly #tsAt;
  readonly #deleteRange;
  readonly #appendTx;
  readonly #offsetForTimeTx;

  constructor(db: SqliteDatabase, topics: TopicCatalog, scheduled: ScheduledTable) {
    this.#topics = topics;
    this.#scheduled = scheduled;
    this.#insert = db.prepare<[number, number, number, string | null, string, Uint8Array]>(
      `INSERT INTO records (pos, ts, key, attributes, data) VALUES (${AT}, ?, ?, ?, ?)`,
    );
    this.#last = db.prepare<[number, number], { record_offset: number; ts: number }>(
      `SELECT pos & ${MASK} AS record_offset, ts FROM records
       WHERE pos >= ${START} AND pos < ${END} ORDER BY pos DESC LIMIT 1`,
    );
    this.#read = db.prepare<[number, number, number, number], LogRow>(
      `SELECT pos & ${MASK} AS record_offset, ts, key, attributes, data FROM records
       WHERE pos >= ${AT} AND pos < ${END} ORDER BY pos LIMIT ?`,
    );
    this.#first = db
      .prepare<[number, number], number>(
        `SELECT pos & ${MASK} FROM records WHERE pos >= ${START} AND pos < ${END} ORDER BY pos LIMIT 1`,
      )
      .pluck();
    this.#tsAt = db.prepare<[number, number], number>(`SELECT ts FROM records WHERE pos = ${AT}`).pluck();
    this.#deleteRange = db.prepare<[number, number, number, number]>(
      `DELETE FROM records WHERE pos >= ${AT} AND pos < ${AT}`,
    );
    this.#appendTx = db.transaction((batches: readonly (readonly TransportRecord[])[]) =>
      this.#appendAll(batches),
    );
    this.#offsetForTimeTx = db.transaction((id: number, time: number) => this.#searchTime(id, time));
  }

  /**
   * Appends every batch in one `BEGIN IMMEDIATE` transaction: all records are stored, or none, and the commit
   * has reached the OS (not the disk: see WalSync). Returns the receipts of each batch, in order.
   */
  append(batches: readonly (readonly TransportRecord[])[]): PublishReceipt[][] {
    // New topics are created (and cached) before the append's transaction: see TopicCatalog.
    for (const records of batches) for (const record of records) this.#topics.ensure(record.topic);
    return this.#appendTx.immediate(batches);
  }

  #appendAll(batches: readonly (readonly TransportRecord[])[]): PublishReceipt[][] {
    const now = Date.now();
    const cursors = new Map<number, PartitionCursor>();
    return batches.map((records) =>
      records.map((record): PublishReceipt => {
        const dueAt = recordDueAt(record);
        if (dueAt !== undefined && dueAt > now) return this.#hold(record, dueAt, now);
        return this.#appendOne(record, now, cursors);
      }),
    );
  }

  #appendOne(record: TransportRecord, now: number, cursors: Map<number, PartitionCursor>): PublishReceipt {
    const topic = this.#topics.ensure(record.topic);
    const n = topic.partitionIds.length;
    const partition = record.key === undefined ? this.#topics.nextTurn(topic) : partitionFor(record.key, n);
    const id = topic.partitionIds[partition]!;
    let cursor = cursors.get(id);
    if (cursor === undefined) {
      const last = this.#last.get(id, id);
      // Never below the previous record's time (clock steps back), so time look-ups can binary search.
      cursor =
        last === undefined
          ? { next: 0, ts: now }
          : { next: last.record_offset + 1, ts: Math.max(now, last.ts) };
      cursors.set(id, cursor);
    }
    const offset = cursor.next++;
    if (offset > MAX_OFFSET) {
      throw new HeraldError(ErrorCodes.TRANSPORT, `Partition ${partition} of ${record.topic} is full`);
    }
    this.#insert.run(
      id,
      offset,
      cursor.ts,
      record.key ?? null,
      JSON.stringify(record.attributes),
      record.data,
    );
    return { topic: record.topic, partition, offset: String(offset) };
  }

  #hold(record: TransportRecord, dueAt: number, now: number): PublishReceipt {
    this.#scheduled.hold(record, dueAt, now);
    const n = this.#topics.ensure(record.topic).partitionIds.length;
    return {
      topic: record.topic,
      partition: record.key === undefined ? -1 : partitionFor(record.key, n),
      offset: '-1',
      deliverAt: new Date(dueAt).toISOString(),
    };
  }

  /**
   * Appends up to `limit` held records due at or before `now` (earliest due first), stamped `now` (or their
   * partition's newest time, if later), deleting them from the `scheduled` table in the same `BEGIN IMMEDIATE`
   * transaction: of several processes releasing at once, each record is appended by exactly one. Cheap when
   * nothing is due: one indexed read, no write transaction.
   */
  release(now: number, limit: number): ReleaseResult {
    return this.#scheduled.release(now, limit, (rows) => {
      // Topics of held records exist already: holding one created its topic.
      const cursors = new Map<number, PartitionCursor>();
      for (const row of rows) this.#appendOne(transportRecordFromRow(row), now, cursors);
    });
  }

  /** Records of a partition from `fromOffset` (inclusive), at most `limit`, in offset order. */
  read(topic: string, partition: number, fromOffset: bigint, limit: number): StoredRecord[] {
    const id = this.#partitionId(topic, partition);
    if (id === undefined || fromOffset > BigInt(MAX_OFFSET)) return [];
    const from = fromOffset < 0n ? 0 : Number(fromOffset);
    return this.#read.all(id, from, id, limit).map((row) => ({
      topic,
      key: row.key ?? undefined,
      attributes: JSON.parse(row.attributes) as Record<string, string>,
      data: row.data,
      partition,
      offset: BigInt(row.record_offset),
      timestamp: row.ts,
    }));
  }

  /** The offset the next append to the partition will get (0 for a partition that does not exist yet). */
  endOffset(topic: string, partition: number): number {
    const id = this.#partitionId(topic, partition);
    return id === undefined ? 0 : this.bounds(id).end;
  }

  /** The oldest offset still stored (the end offset of an empty partition). */
  firstOffset(topic: string, partition: number): number {
    const id = this.#partitionId(topic, partition);
    return id === undefined ? 0 : this.bounds(id).first;
  }

  /** The first offset appended at or after `time` (ms), or the end offset: a binary search over timestamps. */
  offsetForTime(topic: string, partition: number, time: number): number {
    const id = this.#partitionId(topic, partition);
    return id === undefined ? 0 : this.offsetForTimeById(id, time);
  }

  /** Same as {@link offsetForTime}, by partition row id (for retention). */
  offsetForTimeById(id: number, time: number): number {
    return this.#offsetForTimeTx.deferred(id, time);
  }

  /** The oldest stored offset and the end offset of partition row `id` (equal when it holds nothing). */
  bounds(id: number): { first: number; end: number } {
    const last = this.#last.get(id, id);
    if (last === undefined) return { first: 0, end: 0 };
    return { first: this.#first.get(id, id) ?? last.record_offset, end: last.record_offset + 1 };
  }

  /** Deletes the records of partition row `id` with offsets in [from, to); returns how many. */
  deleteRange(id: number, from: number, to: number): number {
    return this.#deleteRange.run(id, from, id, to).changes;
  }

  #searchTime(id: number, time: number): number {
    let { first: low, end: high } = this.bounds(id);
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      const ts = this.#tsAt.get(id, mid);
      if (ts !== undefined && ts >= time) high = mid;
      else low = mid + 1;
    }
    return low;
  }

  #partitionId(topic: string, partition: number): number | undefined {
    return this.#topics.lookup(topic)?.partitionIds[partition];
  }
}
