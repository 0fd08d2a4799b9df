import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import {
  createEvent,
  createRouter,
  encodeEvent,
  HeraldError,
  idempotency,
  memory,
  type CloudEvent,
} from '@herald/core';
import { waitFor } from '@herald/core/testing';
import { currentTransaction, postgresInbox, type PostgresInbox } from '../src/index.ts';
import { OrderPlaced } from './events.ts';
import { dropSchema, skipUnlessDatabase, testPool, uniqueSchema } from './helpers.ts';

describe('postgres inbox', { skip: skipUnlessDatabase }, () => {
  let pool: pg.Pool;
  let schema: string;
  let inbox: PostgresInbox;

  before(async () => {
    pool = testPool(30);
    schema = uniqueSchema('inbox');
    inbox = await postgresInbox({ pool, schema });
    await pool.query(`CREATE TABLE "${schema}".payments (order_id text PRIMARY KEY, amount int NOT NULL)`);
    await pool.query(`CREATE TABLE "${schema}".counters (name text PRIMARY KEY, n int NOT NULL)`);
  });

  after(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  const orderPlaced = (orderId: string, amount = 100): Promise<CloudEvent> =>
    createEvent('/test/order-service', OrderPlaced, { orderId, amount });

  async function counter(name: string): Promise<number> {
    const result = await pool.query<{ n: number }>(`SELECT n FROM "${schema}".counters WHERE name = $1`, [
      name,
    ]);
    return result.rows[0]?.n ?? 0;
  }

  async function increment(client: pg.PoolClient, name: string): Promise<void> {
    await client.query(
      `INSERT INTO "${schema}".counters (name, n) VALUES ($1, 1)
       ON CONFLICT (name) DO UPDATE SET n = counters.n + 1`,
      [name],
    );
  }

  it('ignores duplicates under concurrent delivery of the same event: the work commits once', async () => {
    const event = await orderPlaced('o-concurrent');
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        inbox.once('payment', event.id, async (client) => {
          await increment(client, 'concurrent');
          // Hold the transaction open a moment so the other deliveries really overlap it.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }),
      ),
    );
    assert.equal(results.filter(Boolean).length, 1);
    assert.equal(await counter('concurrent'), 1);
    assert.equal(await inbox.has('payment', event.id), true);
    // Another group handles the same event on its own.
    assert.equal(await inbox.has('inventory', event.id), false);
    assert.equal(await inbox.once('inventory', event.id, (client) => increment(client, 'concurrent')), true);
    assert.equal(await counter('concurrent'), 2);
  });

  it('records nothing when the work throws, so the redelivery runs it (and a concurrent duplicate takes over)', async () => {
    const event = await orderPlaced('o-failing');
    let calls = 0;
    const failingFirst = inbox.once('payment', event.id, async (client) => {
      calls++;
      await increment(client, 'failing');
      await new Promise((resolve) => setTimeout(resolve, 50));
      throw new Error('handler failed');
    });
    // A duplicate delivered meanwhile waits for the first, and runs because the first rolled back.
    await waitFor(() => calls === 1, 5000, 'the first delivery to be working');
    const duplicate = inbox.once('payment', event.id, async (client) => {
      calls++;
      await increment(client, 'failing');
    });
    await assert.rejects(failingFirst, /handler failed/);
    assert.equal(await duplicate, true);
    assert.equal(calls, 2);
    assert.equal(await counter('failing'), 1);
    assert.equal(await inbox.once('payment', event.id, () => Promise.resolve()), false);
  });

  it("is core's Inbox: behind the idempotency middleware a redelivered event changes nothing", async () => {
    const transport = memory();
    const router = createRouter({
      transport,
      group: 'payment',
      source: '/test/payment-service',
      middleware: [idempotency({ inbox })],
    });
    let handled = 0;
    router.on(OrderPlaced, async (event) => {
      handled++;
      const client = currentTransaction();
      assert.ok(client, 'the handler runs inside the inbox transaction');
      await increment(client, `router-${event.data.orderId}`);
    });
    await router.start();
    try {
      const event = await orderPlaced('o-router');
      const record = encodeEvent('orders', event);
      await transport.publish([record, record]);
      await transport.publish([record]);
      await waitFor(async () => (await counter('router-o-router')) === 1, 5000, 'the effect');
      await waitFor(() => handled >= 1, 5000, 'the handler');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(handled, 1, 'duplicates never reach the handler');
      assert.equal(await counter('router-o-router'), 1);
    } finally {
      await router.close();
      await transport.close();
    }
  });

  it('records in the caller’s own transaction, and prunes old pairs', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      assert.equal(await inbox.record(client, 'manual', 'e-1'), true);
      assert.equal(await inbox.record(client, 'manual', 'e-1'), false);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    assert.equal(await inbox.has('manual', 'e-1'), false);
    await inbox.once('manual', 'e-2', () => Promise.resolve());
    assert.equal(await inbox.prune(new Date(Date.now() - 60_000)), 0);
    assert.ok((await inbox.prune(new Date(Date.now() + 60_000))) >= 1);
    assert.equal(await inbox.has('manual', 'e-2'), false);
  });

  it('checks its options at start-up', async () => {
    const config = (option: string) => (error: unknown) =>
      error instanceof HeraldError && error.code === 'HERALD_CONFIG' && error.details?.option === option;
    await assert.rejects(postgresInbox({ pool, schema: '' }), config('schema'));
    await assert.rejects(postgresInbox({ pool: undefined as unknown as pg.Pool, schema }), config('pool'));
  });
});
