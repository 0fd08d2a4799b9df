import pg from 'pg';

/**
 * The database B4 runs in: `BENCH_DATABASE_URL`, else `DATABASE_URL`, else the local server's `test` database
 * (trust auth, as packages/postgres's tests use it). Every run works in schemas of its own and drops them.
 */
export const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A pool on {@link DATABASE_URL} whose connection errors never crash the process: a query on a broken connection
 * still rejects, and the pool replaces the connection. (graphile-worker checks for both listeners.)
 */
export function benchPool(max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** What the B4 report states of the server: version and the settings that decide what a commit means. */
export interface PostgresInfo {
  readonly version: string;
  readonly synchronousCommit: string;
  readonly fsync: string;
  readonly autovacuumNaptime: string;
}

/** The server's version and commit settings, or undefined when it cannot be reached. */
export async function postgresInfo(): Promise<PostgresInfo | undefined> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const setting = async (name: string): Promise<string> =>
      (await client.query<{ setting: string }>('SELECT current_setting($1) AS setting', [name])).rows[0]!
        .setting;
    return {
      version: await setting('server_version'),
      synchronousCommit: await setting('synchronous_commit'),
      fsync: await setting('fsync'),
      autovacuumNaptime: await setting('autovacuum_naptime'),
    };
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}
