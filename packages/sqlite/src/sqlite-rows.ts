import type { StoredRecord, TransportRecord } from '@herald/core';

/** A record's columns as the log, parked and dead-letter tables store them. */
export interface RecordRow {
  readonly topic: string;
  readonly part: number;
  readonly record_offset: number;
  readonly ts: number;
  readonly key: string | null;
  readonly attributes: string;
  readonly data: Buffer;
}

/** The columns of a {@link RecordRow}, in the order of {@link recordParams}. */
export const RECORD_COLUMNS = 'topic, part, record_offset, ts, key, attributes, data';

/**
 * Rebuilds a record from the columns every record table has (the log's and the scheduled tables too). Attributes
 * are stored as a JSON object of strings.
 */
export function transportRecordFromRow(
  row: Pick<RecordRow, 'topic' | 'key' | 'attributes' | 'data'>,
): TransportRecord {
  return {
    topic: row.topic,
    key: row.key ?? undefined,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    data: row.data,
  };
}

/** Rebuilds the stored record from its row (see {@link transportRecordFromRow}). */
export function recordFromRow(row: RecordRow): StoredRecord {
  return {
    ...transportRecordFromRow(row),
    partition: row.part,
    offset: BigInt(row.record_offset),
    timestamp: row.ts,
  };
}

/** Bind parameters of a record for {@link RECORD_COLUMNS}. */
export function recordParams(
  record: StoredRecord,
): [string, number, number, number, string | null, string, Uint8Array] {
  return [
    record.topic,
    record.partition,
    Number(record.offset),
    record.timestamp,
    record.key ?? null,
    JSON.stringify(record.attributes),
    record.data,
  ];
}
