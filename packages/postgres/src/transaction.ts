import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClientBase, Pool, PoolClient } from 'pg';
import { configError, ErrorCodes, HeraldError } from '@herald/core';

/** Anything that runs a query: a pool (each statement commits on its own) or a client (inside its transaction). */
export type Queryable = Pool | ClientBase;

/** Isolation levels of {@link transaction}. */
export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

const ISOLATION_LEVELS: ReadonlySet<string> = new Set(['read committed', 'repeatable read', 'serializable']);

/** Options of {@link transaction}. */
export interface TransactionOptions {
  /** Default: the database's default (`read committed` unless configured otherwise). */
  readonly isolation?: IsolationLevel;
}

/** Throws `HERALD_CONFIG` unless `isolation` is `undefined` or one of the {@link IsolationLevel}s. */
export function checkIsolation(isolation: unknown): void {
  if (isolation !== undefined && (typeof isolation !== 'string' || !ISOLATION_LEVELS.has(isolation))) {
    throw configError('isolation', `one of ${[...ISOLATION_LEVELS].join(', ')}`, isolation);
  }
}

const current = new AsyncLocalStorage<PoolClient>();

/**
 * The client of the {@link transaction} running in this async context (also inside `inbox.runOnce` and a unit of
 * work), if any. Lets a handler behind core's `idempotency` middleware write its state in the inbox's
 * transaction without being handed the client.
 */
export function currentTransaction(): PoolClient | undefined {
  return current.getStore();
}

/**
 * Runs `work` in one transaction on a client of `pool`: `BEGIN`, then `COMMIT` when `work` resolves or
 * `ROLLBACK` when it throws (the error is rethrown as is). The client is released in every case, and destroyed
 * when the connection broke, so a broken connection never returns to the pool. A failed `COMMIT` rejects: the
 * caller must then assume nothing was committed (in the rare case the connection broke after the server
 * committed, it was; an inbox makes the retry harmless).
 */
export async function transaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  checkIsolation(options.isolation);
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw databaseError('Could not get a database connection', error);
  }
  // A connection that dies while we hold it (between statements) emits `error` on the client; without a
  // listener Node would crash the process.
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query(
      options.isolation === undefined ? 'BEGIN' : `BEGIN ISOLATION LEVEL ${options.isolation}`,
    );
    const result = await current.run(client, () => work(client));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (broken === undefined) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
    }
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken ?? false);
  }
}

// SQLSTATE classes where retrying the same statement cannot help: data exceptions, integrity violations,
// syntax errors and missing privileges.
const PERMANENT_CLASSES = new Set(['22', '23', '42']);

/**
 * Wraps a database failure in a `HERALD_TRANSPORT` {@link HeraldError} (the database is the outbox's broker),
 * keeping the SQLSTATE in `details.sqlState` and the original error as `cause`. HeraldErrors pass through.
 */
export function databaseError(message: string, cause: unknown): HeraldError {
  if (cause instanceof HeraldError) return cause;
  const sqlState = (cause as { code?: unknown } | null)?.code;
  const state = typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState) ? sqlState : undefined;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new HeraldError(ErrorCodes.TRANSPORT, `${message}: ${reason}`, {
    cause,
    permanent: state !== undefined && PERMANENT_CLASSES.has(state.slice(0, 2)),
    ...(state === undefined ? {} : { details: { sqlState: state } }),
  });
}
