import pg from 'pg';

/**
 * The test database: `HERALD_TEST_DATABASE_URL`, else `DATABASE_URL`, else the local server. Every test works in
 * a schema of its own and drops it, so any database the user can create schemas in will do.
 */
export const DATABASE_URL =
  process.env.HERALD_TEST_DATABASE_URL ??
  process.env.DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * `skip` option for the suites: a reason to skip when PostgreSQL is unreachable, except under `CI=true`, where the
 * suites run and fail (a missing database is a failure there, never a skip).
 */
export const skipUnlessDatabase: string | false =
  process.env.CI === 'true' || (await reachable()) ? false : `PostgreSQL unreachable at ${DATABASE_URL}`;

/** A fresh pool on the test database. */
export function testPool(max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  return pool;
}

/** A unique schema name for one test. */
export function uniqueSchema(prefix: string): string {
  return `herald_test_${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Drops a test's schema and everything in it. */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
