import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import {
  createEvent,
  createRouter,
  decodeRecord,
  encodeEvent,
  ErrorCodes,
  HeraldError,
  memory,
  unitOfWorkHandler,
  type CloudEvent,
  type UnitOfWork,
} from '@herald/core';
import { waitFor } from '@herald/core/testing';
import {
  currentTransaction,
  postgresInbox,
  postgresOutbox,
  postgresUnitOfWork,
  type PostgresInbox,
  type PostgresOutbox,
} from '../src/index.ts';
import { OrderPlaced, PaymentSucceeded } from './events.ts';
import { dropSchema, skipUnlessDatabase, testPool, uniqueSchema } from './helpers.ts';

describe('postgresUnitOfWork', { skip: skipUnlessDatabase }, () => {
  let pool: pg.Pool;
  let schema: string;
  let inbox: PostgresInbox;
  let outbox: PostgresOutbox;
  let unit: UnitOfWork<pg.PoolClient>;

  before(async () => {
    pool = testPool(10);
    schema = uniqueSchema('uow');
    inbox = await postgresInbox({ pool, schema });
    outbox = await postgresOutbox({ pool, schema, source: '/test/payment-service' });
    unit = postgresUnitOfWork({ inbox, outbox });
    await pool.query(`CREATE TABLE "${schema}".payments (order_id text PRIMARY KEY, amount int NOT NULL)`);
    await pool.query(`CREATE TABLE "${schema}".runs (order_id text NOT NULL)`);
  });

  after(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  const orderPlaced = (orderId: string, amount = 100) =>
    createEvent('/test/order-service', OrderPlaced, { orderId, amount }) as Promise<
      CloudEvent<{ orderId: string; amount: number }>
    >;
  const count = async (table: string, orderId: string): Promise<number> =>
    Number(
      (
        await pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM "${schema}".${table} WHERE order_id = $1`,
          [orderId],
        )
      ).rows[0]!.n,
    );
  const outboxRowsOf = async (orderId: string) =>
    (await outbox.peek(1000)).filter((row) => row.record.key === orderId);

  async function pay(client: pg.PoolClient, orderId: string, amount: number): Promise<void> {
    await client.query(`INSERT INTO "${schema}".runs (order_id) VALUES ($1)`, [orderId]);
    await client.query(`INSERT INTO "${schema}".payments (order_id, amount) VALUES ($1, $2)`, [
      orderId,
      amount,
    ]);
  }

  it('commits the state, the inbox record and the emitted events together, with the lineage of the event', async () => {
    const event = await orderPlaced('o-commit', 4200);
    const ran = await unit.handle('payment', event, async (client, { emit, event: handled }) => {
      assert.equal(handled, event);
      assert.equal(currentTransaction(), client, 'the client is the current transaction');
      await pay(client, 'o-commit', 4200);
      await emit(PaymentSucceeded, { orderId: 'o-commit', amount: 4200 });
    });
    assert.equal(ran, true);
    assert.equal(await count('payments', 'o-commit'), 1);
    assert.equal(await inbox.has('payment', event.id), true);
    const rows = await outboxRowsOf('o-commit');
    assert.equal(rows.length, 1);
    const followUp = decodeRecord(rows[0]!.record);
    assert.equal(followUp.type, 'PaymentSucceeded');
    assert.equal(followUp.source, '/test/payment-service');
    assert.equal(followUp.causationid, event.id);
    assert.equal(followUp.correlationid, event.correlationid ?? event.id);
  });

  it('a handler that throws rolls back its writes, its inbox record and its outbox rows', async () => {
    const event = await orderPlaced('o-throw', 10);
    await assert.rejects(
      unit.handle('payment', event, async (client, { emit, add }) => {
        await pay(client, 'o-throw', 10);
        await emit(PaymentSucceeded, { orderId: 'o-throw', amount: 10 });
        await add('audit', event);
        throw new Error('crashed before commit');
      }),
      /crashed before commit/,
    );
    assert.equal(await count('payments', 'o-throw'), 0);
    assert.equal(await count('runs', 'o-throw'), 0);
    assert.equal((await outboxRowsOf('o-throw')).length, 0);
    assert.equal(await inbox.has('payment', event.id), false);
    assert.equal(
      await unit.handle('payment', event, (client) => pay(client, 'o-throw', 10)),
      true,
      'the redelivery runs it again',
    );
    assert.equal(await count('payments', 'o-throw'), 1);
  });

  it('an invalid emitted event rolls back the unit with HERALD_VALIDATION', async () => {
    await assert.rejects(
      unit.run(async (client, { emit }) => {
        await pay(client, 'o-invalid', 1);
        await emit(PaymentSucceeded, { orderId: 'o-invalid', amount: 1.5 });
      }),
      { code: ErrorCodes.VALIDATION },
    );
    assert.equal(await count('payments', 'o-invalid'), 0);
  });

  it('run: a command commits its state and events, and resolves with its result', async () => {
    const result = await unit.run(async (client, { emit, event }) => {
      assert.equal(event, undefined, 'no event is being handled');
      await pay(client, 'o-run', 5);
      await emit(PaymentSucceeded, { orderId: 'o-run', amount: 5 });
      return 'placed';
    });
    assert.equal(result, 'placed');
    assert.equal(await count('payments', 'o-run'), 1);
    assert.equal((await outboxRowsOf('o-run')).length, 1);
  });

  it('concurrent duplicate deliveries on separate connections run the handler once', async () => {
    const event = await orderPlaced('o-dup', 7);
    let entered = 0;
    const work = async (client: pg.PoolClient) => {
      entered++;
      await client.query(`INSERT INTO "${schema}".runs (order_id) VALUES ($1)`, ['o-dup']);
      // Hold the transaction open: the other delivery blocks on the inbox row meanwhile.
      await client.query('SELECT pg_sleep(0.1)');
    };
    const results = await Promise.all([
      unit.handle('payment', event, work),
      unit.handle('payment', event, work),
      unit.handle('payment', event, work),
    ]);
    assert.deepEqual(results.sort(), [false, false, true]);
    assert.equal(entered, 1);
    assert.equal(await count('runs', 'o-dup'), 1);
    assert.equal(await unit.handle('payment', event, work), false, 'a later redelivery changes nothing');
    assert.equal(
      await unit.handle('audit', event, () => Promise.resolve()),
      true,
      'another group is separate',
    );
  });

  it('behind a router, a redelivered event is handled once', async () => {
    const transport = memory();
    const router = createRouter({ transport, group: 'payment', source: '/test/payment-service' });
    let calls = 0;
    router.on(
      OrderPlaced,
      unitOfWorkHandler(unit, async (event, client) => {
        calls++;
        await client.query(`INSERT INTO "${schema}".runs (order_id) VALUES ($1)`, [event.data.orderId]);
      }),
    );
    await router.start();
    try {
      const event = await orderPlaced('o-router');
      // Same key as the event: the marker is handled after both copies of it.
      const marker = await createEvent('/test/order-service', OrderPlaced, {
        orderId: 'o-router',
        amount: 1,
      });
      await transport.publish([encodeEvent('orders', event), encodeEvent('orders', event)]);
      await transport.publish([encodeEvent('orders', marker)]);
      await waitFor(async () => (await inbox.has('payment', marker.id)) && calls >= 2, 10_000, 'the marker');
      assert.equal(calls, 2, 'the event once, the marker once');
      assert.equal(await count('runs', 'o-router'), 2);
    } finally {
      await router.close();
      await transport.close();
    }
  });

  it('checks its options at creation', async () => {
    const config = (option: string) => (error: unknown) =>
      error instanceof HeraldError && error.code === 'HERALD_CONFIG' && error.details?.option === option;
    const otherPool = testPool(1);
    try {
      const other = await postgresOutbox({ pool: otherPool, schema });
      assert.throws(() => postgresUnitOfWork({ inbox, outbox: other }), config('outbox'));
      assert.throws(() => postgresUnitOfWork({ inbox: {} as PostgresInbox, outbox }), config('inbox'));
      assert.throws(
        () => postgresUnitOfWork({ inbox, outbox, isolation: 'sometimes' as 'serializable' }),
        config('isolation'),
      );
    } finally {
      await otherPool.end();
    }
  });
});
