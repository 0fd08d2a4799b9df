/**
 * The services' logic again, with their state, outbox and inbox in PostgreSQL: the unit tests of each service
 * and of the in-process shop, run with every service on a fresh schema of the test database
 * (`HERALD_TEST_DATABASE_URL`, default the local server's `test`) instead of in-memory SQLite. The business rules
 * are the same code on both backends; this checks the PostgreSQL stores under them. The schemas are dropped at
 * the end. Without PostgreSQL the file skips; under `CI=true` it fails.
 */
import { after, it } from 'node:test';
import pg from 'pg';
import { ADMIN_DATABASE_URL, postgresReachable } from './e2e/state.ts';
import { testState } from './in-process.ts';

if (!(await postgresReachable())) {
  if (process.env.CI === 'true')
    throw new Error(`PostgreSQL is not reachable at ${ADMIN_DATABASE_URL} (CI=true: failing, not skipping)`);
  it('services on PostgreSQL state', (t) => t.skip(`PostgreSQL is not reachable at ${ADMIN_DATABASE_URL}`));
} else {
  const pool = new pg.Pool({ connectionString: ADMIN_DATABASE_URL, max: 20 });
  pool.on('error', () => undefined);
  testState.backend = 'postgres';
  testState.pool = pool;
  after(async () => {
    const { rows } = await pool.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)',
      [testState.schemaPrefix],
    );
    for (const { nspname } of rows) await pool.query(`DROP SCHEMA "${nspname}" CASCADE`);
    await pool.end();
  });
  // Each file registers its suites as it is imported; they run here, on PostgreSQL.
  await import('./payment.test.ts');
  await import('./inventory.test.ts');
  await import('./notification.test.ts');
  await import('./order-saga.test.ts');
  await import('./shop.test.ts');
  await import('./order-idempotency.test.ts');
  await import('./list-pagination.test.ts');
  await import('./order-settlement.test.ts');
  await import('./plain-json-interop.test.ts');
}
