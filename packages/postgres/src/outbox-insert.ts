// The head every insert into `<schema>.outbox` starts with: the outbox's own insert (outbox.ts) and the one that
// also holds rows due later (scheduled.ts).
import { quoted } from './schema.ts';

/**
 * The `WITH` clause of the outbox's inserts, up to and including its `inserted` CTE: `locks` takes the key locks
 * (`$1` the lock class, `$2` the key hashes, taken sorted, so two multi-key calls cannot deadlock each other),
 * then `inserted` writes the rows `$3`-`$7` (topics, keys, partitions, attributes, data) in their order. The locks
 * sit in a one-time filter, evaluated before the first row (and its seq) is produced, so no row of a key gets a
 * seq before its lock is held. A statement may add CTEs after it (`, name AS (...)`) and ends with its SELECT.
 */
export function outboxInsertCtes(schema: string): string {
  return `WITH locks AS MATERIALIZED (
      SELECT pg_advisory_xact_lock($1::int, h) FROM unnest($2::int[]) AS h ORDER BY h
    ), inserted AS (
      INSERT INTO ${quoted(schema)}.outbox (topic, key, partition, attributes, data)
      SELECT r.topic, r.key, r.partition, r.attributes, r.data
      FROM unnest($3::text[], $4::text[], $5::smallint[], $6::jsonb[], $7::bytea[])
        WITH ORDINALITY AS r(topic, key, partition, attributes, data, ord)
      WHERE (SELECT count(*) FROM locks) >= 0
      ORDER BY r.ord
      RETURNING 1
    )`;
}
