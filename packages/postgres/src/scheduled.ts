// The outbox's held rows (events due later), in `<schema>.scheduled`: how they are written with the caller's
// transaction and moved to `<schema>.outbox` when due. The table itself is created by `ensureSchema`.
import type { Pool } from 'pg';
import type { TransportRecord } from '@herald/core';
import { outboxInsertCtes } from './outbox-insert.ts';
import { quoted } from './schema.ts';
import { databaseError, transaction, type Queryable } from './transaction.ts';

/** The NOTIFY payload of a commit that added held rows: a relay then re-reads the next due time. */
export const SCHEDULED_PAYLOAD = 'scheduled';

/**
 * The outbox's insert with held rows too, in one statement: `$1`-`$8` as the outbox's own insert (key locks,
 * the outbox rows, the channel), then `$9`-`$13` the held rows (topics, keys, attributes, data, due times).
 * Held rows take no key lock: they are not ordered with the other rows of their key.
 */
export function insertWithHeldSql(schema: string, notify: boolean): string {
  const s = quoted(schema);
  const signal = notify
    ? `SELECT pg_notify($8, '') FROM (SELECT count(*) AS n FROM inserted) AS c WHERE c.n > 0
       UNION ALL
       SELECT pg_notify($8, '${SCHEDULED_PAYLOAD}') FROM (SELECT count(*) AS n FROM held) AS h WHERE h.n > 0`
    : `SELECT $8::text FROM (SELECT (SELECT count(*) FROM inserted) + (SELECT count(*) FROM held) AS n) AS c
       WHERE c.n > 0`;
  return `${outboxInsertCtes(schema)}, held AS (
      INSERT INTO ${s}.scheduled (topic, key, attributes, data, due_at)
      SELECT r.topic, r.key, r.attributes, r.data, r.due_at
      FROM unnest($9::text[], $10::text[], $11::jsonb[], $12::bytea[], $13::timestamptz[])
        WITH ORDINALITY AS r(topic, key, attributes, data, due_at, ord)
      ORDER BY r.ord
      RETURNING 1
    )
    ${signal}`;
}

/** The held records of an `addRecords` call as the `$9`-`$13` parameters of {@link insertWithHeldSql}. */
export function heldParameters(
  held: readonly { readonly record: TransportRecord; readonly dueAt: number }[],
): unknown[] {
  return [
    held.map(({ record }) => record.topic),
    held.map(({ record }) => record.key ?? null),
    held.map(({ record }) => JSON.stringify(record.attributes)),
    held.map(({ record }) => Buffer.from(record.data.buffer, record.data.byteOffset, record.data.byteLength)),
    held.map(({ dueAt }) => new Date(dueAt).toISOString()),
  ];
}

interface HeldRow {
  seq: string;
  topic: string;
  key: string | null;
  attributes: Record<string, string>;
  data: Buffer;
}

/**
 * Moves up to `limit` due held rows (by the database's clock, oldest due time first) to the outbox table in one
 * transaction: locked `FOR UPDATE SKIP LOCKED`, deleted, and written by `insert` (the outbox's own insert), so two
 * relays move each row once and a crash leaves it held or in the outbox, never both or neither. Returns how many.
 */
export async function releaseDueRows(
  pool: Pool,
  schema: string,
  limit: number,
  insert: (client: Queryable, records: readonly TransportRecord[]) => Promise<void>,
): Promise<number> {
  const s = quoted(schema);
  try {
    return await transaction(pool, async (client) => {
      const due = await client.query<HeldRow>(
        `SELECT seq, topic, key, attributes, data FROM ${s}.scheduled WHERE due_at <= now()
         ORDER BY due_at, seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      if (due.rows.length === 0) return 0;
      await client.query(`DELETE FROM ${s}.scheduled WHERE seq = ANY($1::bigint[])`, [
        due.rows.map((row) => row.seq),
      ]);
      await insert(
        client,
        due.rows.map((row) => ({
          topic: row.topic,
          key: row.key ?? undefined,
          attributes: row.attributes,
          data: row.data,
        })),
      );
      return due.rows.length;
    });
  } catch (error) {
    throw databaseError(`Could not release the due rows of ${schema}.scheduled`, error);
  }
}

/**
 * Milliseconds, by the database's clock, until the earliest held row is due: 0 when one is due now, `undefined`
 * when none is held.
 */
export async function readNextDue(pool: Pool, schema: string): Promise<number | undefined> {
  try {
    const result = await pool.query<{ ms: number | null }>(
      `SELECT (extract(epoch FROM min(due_at) - now()) * 1000)::float8 AS ms FROM ${quoted(schema)}.scheduled`,
    );
    const ms = result.rows[0]?.ms ?? null;
    return ms === null ? undefined : Math.max(0, Math.ceil(ms));
  } catch (error) {
    throw databaseError(`Could not read ${schema}.scheduled`, error);
  }
}

/** Rows held in `<schema>.scheduled`. */
export async function countScheduled(pool: Pool, schema: string): Promise<number> {
  try {
    const result = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoted(schema)}.scheduled`);
    return Number(result.rows[0]!.n);
  } catch (error) {
    throw databaseError(`Could not count ${schema}.scheduled`, error);
  }
}
