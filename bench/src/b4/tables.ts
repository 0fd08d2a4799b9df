import type pg from 'pg';
import { runMigrations } from 'graphile-worker';
import { ensureSchema } from '@herald/postgres';
import type { B4Schemas, B4SystemId } from './protocol.ts';
import { quietLogger } from './quiet-logger.ts';

// The tables of one B4 system, created once per run in schemas named after the run and dropped at its end.

/** The schemas of `system` in run `runId` (lower-case identifiers: runId is base36 and hex). */
export function b4Schemas(runId: string, system: B4SystemId): B4Schemas {
  const short = { 'herald-outbox': 'herald', 'bare-skip-locked': 'bare', 'graphile-worker': 'gw' }[system];
  const app = `bench_b4_${runId}_${short}`;
  return { app, jobs: `${app}_jobs` };
}

/** The table the system queues its events in between the business commit and the relay: the one that must not grow. */
export function queueTable(system: B4SystemId, schemas: B4Schemas): string {
  switch (system) {
    case 'herald-outbox':
      return `"${schemas.app}".outbox`;
    case 'bare-skip-locked':
      return `"${schemas.app}".bare_outbox`;
    case 'graphile-worker':
      return `"${schemas.jobs}"._private_jobs`;
  }
}

/**
 * Creates the system's tables: the business table (`orders`), the consumer's effect table (`effects`), Herald's
 * inbox (every system's consumer uses it) and the system's queue: Herald's outbox, a bare outbox table, or
 * graphile-worker's schema (its migrations).
 */
export async function createTables(pool: pg.Pool, system: B4SystemId, schemas: B4Schemas): Promise<void> {
  const s = `"${schemas.app}"`;
  await ensureSchema(pool, schemas.app);
  await pool.query(`CREATE TABLE ${s}.orders (
    seq integer NOT NULL,
    customer text NOT NULL,
    total_cents integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`);
  await pool.query(`CREATE TABLE ${s}.effects (
    seq integer NOT NULL,
    handled_at timestamptz NOT NULL DEFAULT now()
  )`);
  if (system === 'bare-skip-locked') {
    await pool.query(`CREATE TABLE ${s}.bare_outbox (
      id bigserial PRIMARY KEY,
      topic text NOT NULL,
      key text,
      attributes jsonb NOT NULL,
      data bytea NOT NULL
    )`);
  }
  if (system === 'graphile-worker') {
    await runMigrations({ pgPool: pool, schema: schemas.jobs, logger: quietLogger });
  }
}

/** Rows and on-disk size (`pg_total_relation_size`: heap, indexes, TOAST) of a table. */
export interface TableSize {
  readonly rows: number;
  readonly bytes: number;
}

export async function tableSize(pool: pg.Pool, table: string): Promise<TableSize> {
  const result = await pool.query<{ rows: string; bytes: string }>(
    `SELECT (SELECT count(*) FROM ${table}) AS rows, pg_total_relation_size($1::regclass) AS bytes`,
    [table],
  );
  return { rows: Number(result.rows[0]!.rows), bytes: Number(result.rows[0]!.bytes) };
}

/** Drops the system's schemas and everything in them. */
export async function dropTables(pool: pg.Pool, schemas: B4Schemas): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schemas.jobs}" CASCADE`);
  await pool.query(`DROP SCHEMA IF EXISTS "${schemas.app}" CASCADE`);
}
