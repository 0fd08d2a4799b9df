import type { Pool, PoolClient } from 'pg';
import { configError, type Inbox } from '@herald/core';
import { checkStoreOptions } from './outbox.ts';
import { ensureSchema, quoted } from './schema.ts';
import { databaseError, transaction, type Queryable } from './transaction.ts';

/** Options of {@link postgresInbox}. */
export interface PostgresInboxOptions {
  readonly pool: Pool;
  /** The service's schema: the inbox must live next to the state it protects. Created if missing. */
  readonly schema: string;
}

/**
 * The consumer side of effectively-once: a table of `(consumer_group, event_id)` pairs in the service's schema.
 * The pair is inserted (`ON CONFLICT DO NOTHING`) in the same transaction as the handler's state change, first,
 * so a redelivered event changes nothing, and a concurrent delivery of the same event waits on the first one's
 * row lock and then sees it recorded (or, if the first rolled back, runs instead of it).
 */
export interface PostgresInbox extends Inbox {
  readonly pool: Pool;
  readonly schema: string;
  /**
   * Runs `work(client)` and records `(group, eventId)` in ONE transaction, and resolves `true`; resolves `false`
   * without running `work` when the pair is recorded already. If `work` throws, nothing is recorded and nothing it
   * wrote through `client` commits (the error propagates).
   */
  once(group: string, eventId: string, work: (client: PoolClient) => Promise<void>): Promise<boolean>;
  /**
   * Core's {@link Inbox} (for the `idempotency` middleware): the same as {@link PostgresInbox.once}. The
   * transaction's client is passed to `work` and is also `currentTransaction()` inside it, so a handler behind the
   * middleware writes its state atomically with the inbox record by using that client. Effects outside this
   * database happen at least once.
   */
  runOnce(group: string, eventId: string, work: (client: PoolClient) => Promise<void>): Promise<boolean>;
  /**
   * Records `(group, eventId)` in the caller's transaction, for callers that manage it themselves. Resolves
   * `false` when it is recorded already (then skip the work; the row is not locked by you). Call it before the
   * state change.
   */
  record(client: Queryable, group: string, eventId: string): Promise<boolean>;
  /** True when `(group, eventId)` is recorded (committed). */
  has(group: string, eventId: string): Promise<boolean>;
  /**
   * Deletes pairs recorded before `before` and returns how many. Only prune past the longest time a transport may
   * redeliver an event (retention of the log), or duplicates older than that would be handled again.
   */
  prune(before: Date): Promise<number>;
}

/**
 * Creates (if missing) the schema and its tables, and returns its inbox. See {@link PostgresInbox} for the
 * guarantee. Options are checked first (`HERALD_CONFIG`); an unreachable database rejects with
 * `HERALD_TRANSPORT`.
 */
export async function postgresInbox(options: PostgresInboxOptions): Promise<PostgresInbox> {
  checkStoreOptions(options);
  const { pool, schema } = options;
  await ensureSchema(pool, schema);
  const s = quoted(schema);
  const insertSql = `INSERT INTO ${s}.inbox (consumer_group, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`;

  async function record(client: Queryable, group: string, eventId: string): Promise<boolean> {
    try {
      const result = await client.query(insertSql, [group, eventId]);
      return result.rowCount === 1;
    } catch (error) {
      throw databaseError(`Could not record event ${eventId} for group ${group} in ${schema}.inbox`, error);
    }
  }

  async function once(
    group: string,
    eventId: string,
    work: (client: PoolClient) => Promise<void>,
  ): Promise<boolean> {
    // Claim first: a duplicate costs one insert and never runs `work`; a concurrent duplicate blocks here on the
    // unique index until the first transaction ends.
    return transaction(pool, async (client) => {
      if (!(await record(client, group, eventId))) return false;
      await work(client);
      return true;
    });
  }

  return {
    pool,
    schema,
    once,
    runOnce: once,
    record,
    async has(group, eventId) {
      try {
        const result = await pool.query(
          `SELECT 1 FROM ${s}.inbox WHERE consumer_group = $1 AND event_id = $2`,
          [group, eventId],
        );
        return result.rowCount === 1;
      } catch (error) {
        throw databaseError(`Could not read ${schema}.inbox`, error);
      }
    },
    async prune(before) {
      if (!(before instanceof Date) || Number.isNaN(before.getTime())) {
        throw configError('before', 'a valid Date', before);
      }
      try {
        const result = await pool.query(`DELETE FROM ${s}.inbox WHERE processed_at < $1`, [before]);
        return result.rowCount ?? 0;
      } catch (error) {
        throw databaseError(`Could not prune ${schema}.inbox`, error);
      }
    },
  };
}
