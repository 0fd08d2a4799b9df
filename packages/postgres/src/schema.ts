import type { Pool } from 'pg';
import { configError, ErrorCodes, HeraldError, partitionFor } from '@herald/core';
import { databaseError, transaction } from './transaction.ts';

// Lower-case only: an unquoted identifier folds to lower case in PostgreSQL, so `Orders` and `orders` would
// name the same schema from psql but different ones from here. 56 leaves room for the channel prefix (63 max).
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,55}$/;

/** Checks a schema name option: it is spliced into SQL, so only plain lower-case identifiers are accepted. */
export function checkSchemaName(option: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || !SCHEMA_NAME.test(name) || name.startsWith('pg_')) {
    throw configError(
      option,
      'a lower-case SQL identifier of at most 56 characters (letters, digits, "_"; not "pg_*")',
      name,
    );
  }
}

/** Checks that `pool` looks like a `pg.Pool` (a typo in the options must fail at start-up, not on first use). */
export function checkPool(option: string, pool: unknown): asserts pool is Pool {
  const candidate = pool as { connect?: unknown; query?: unknown } | undefined;
  if (typeof candidate?.connect !== 'function' || typeof candidate.query !== 'function') {
    throw configError(option, 'a pg.Pool', typeof pool);
  }
}

/** The quoted schema, ready to prefix a table name. */
export function quoted(schema: string): string {
  return `"${schema}"`;
}

/** The NOTIFY channel the outbox signals on commit and the relay LISTENs to. */
export function channelFor(schema: string): string {
  return `herald_${schema}`;
}

/** A stable signed 32-bit hash (FNV-1a, as core's partitioner), for advisory-lock ids. */
export function hash32(text: string): number {
  return partitionFor(text, 0x1_0000_0000) | 0;
}

/**
 * Advisory-lock classes (the first half of the two-int lock id) of one schema: one for writers of a partition
 * key, one for relays of a partition. Advisory locks are per database, so the schema is part of the class.
 */
export function lockClasses(schema: string): { readonly key: number; readonly partition: number } {
  return {
    key: hash32(`herald:${schema}:outbox-key`),
    partition: hash32(`herald:${schema}:relay-partition`),
  };
}

/** Serialises schema creation across processes starting at once (CREATE ... IF NOT EXISTS races otherwise). */
const MIGRATION_LOCK = hash32('herald:postgres:migrate');

/**
 * Creates the schema and Herald's tables in it if they are missing: `outbox`, `scheduled` (the outbox's rows held
 * until due) and `inbox` (the outbox and inbox factories call it). Idempotent and safe to run from several
 * processes at once; issues no DDL when the tables exist, and only the missing ones' when some do (a schema made
 * by an older version gains `scheduled`). Rejects with `HERALD_TRANSPORT` when the database cannot be reached or
 * refuses.
 */
export async function ensureSchema(pool: Pool, schema: string): Promise<void> {
  const s = quoted(schema);
  try {
    // Checked first so a role without CREATE privileges can use tables an administrator created: PostgreSQL
    // checks the privilege of `CREATE ... IF NOT EXISTS` before it checks whether the object exists.
    const existing = await pool.query<{ ready: boolean }>(
      `SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL AS ready`,
      [`${s}.outbox`, `${s}.inbox`, `${s}.scheduled`],
    );
    if (existing.rows[0]?.ready === true) return;
    await transaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      // A queue table: rows live for milliseconds, so vacuum it after a fixed number of dead rows rather than
      // a fraction of a table that is almost always empty.
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.outbox (
        seq bigserial PRIMARY KEY,
        topic text NOT NULL,
        key text,
        partition smallint NOT NULL,
        attributes jsonb NOT NULL,
        data bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
              autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000)`);
      await client.query(`CREATE INDEX IF NOT EXISTS outbox_partition_seq ON ${s}.outbox (partition, seq)`);
      // Events due later, held until a relay moves them to the outbox (scheduled.ts).
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.scheduled (
        seq bigserial PRIMARY KEY,
        topic text NOT NULL,
        key text,
        attributes jsonb NOT NULL,
        data bytea NOT NULL,
        due_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
      await client.query(`CREATE INDEX IF NOT EXISTS scheduled_due_at_seq ON ${s}.scheduled (due_at, seq)`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.inbox (
        consumer_group text NOT NULL,
        event_id text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer_group, event_id)
      )`);
      await client.query(`CREATE INDEX IF NOT EXISTS inbox_processed_at ON ${s}.inbox (processed_at)`);
    });
  } catch (error) {
    throw databaseError(`Could not create the Herald tables in schema "${schema}"`, error);
  }
}

const PARTITIONS_COMMENT = /^herald:partitions=(\d+)$/;

/**
 * The outbox's relay partitions, recorded once as the table's comment (`herald:partitions=N`) by the first
 * outbox that opens it, so every writer of the schema spreads keys the same way (two writers with different
 * counts could put one key in two partitions, which two relays could then publish concurrently). `requested`
 * undefined takes the recorded count (16 when none is); a different count rejects with `HERALD_CONFIG`.
 */
export async function outboxPartitions(
  pool: Pool,
  schema: string,
  requested: number | undefined,
): Promise<number> {
  const table = `${quoted(schema)}.outbox`;
  const read = async (queryable: Pick<Pool, 'query'>): Promise<number | undefined> => {
    const result = await queryable.query<{ comment: string | null }>(
      `SELECT obj_description(to_regclass($1), 'pg_class') AS comment`,
      [table],
    );
    const match = PARTITIONS_COMMENT.exec(result.rows[0]?.comment ?? '');
    return match === null ? undefined : Number(match[1]);
  };
  let recorded: number | undefined;
  try {
    recorded =
      (await read(pool)) ??
      (await transaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        const raced = await read(client);
        if (raced !== undefined) return raced;
        const partitions = requested ?? 16;
        await client.query(`COMMENT ON TABLE ${table} IS 'herald:partitions=${partitions}'`);
        return partitions;
      }));
  } catch (error) {
    throw databaseError(`Could not read or record the partitions of ${schema}.outbox`, error);
  }
  if (requested !== undefined && requested !== recorded) {
    throw new HeraldError(
      ErrorCodes.CONFIG,
      `Invalid option "partitions": ${schema}.outbox was created with ${recorded} partitions, got ${requested} ` +
        `(omit the option to use the recorded count; to change it, drain the outbox first and update the ` +
        `table's comment)`,
      { permanent: true, details: { option: 'partitions', expected: recorded, got: requested } },
    );
  }
  return recorded;
}
