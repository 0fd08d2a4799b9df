import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { z } from 'zod';
import { createEvent, decodeRecord, defineEvent, HeraldError, type Publisher } from '@herald/core';
import { postgresOutbox, transaction, type PostgresOutbox } from '../src/index.ts';
import { dropSchema, DATABASE_URL, skipUnlessDatabase, testPool, uniqueSchema } from './helpers.ts';

const OrderPlaced = defineEvent({
  type: 'OrderPlaced',
  topic: 'orders',
  schema: z.object({ orderId: z.string(), amount: z.number().int().positive() }),
  key: (data) => data.orderId,
});

describe('postgres outbox', { skip: skipUnlessDatabase }, () => {
  let pool: pg.Pool;
  let schema: string;
  let outbox: PostgresOutbox;

  before(async () => {
    pool = testPool();
    schema = uniqueSchema('outbox');
    outbox = await postgresOutbox({ pool, schema, source: '/test/order-service' });
    await pool.query(`CREATE TABLE "${schema}".orders (id text PRIMARY KEY, amount int NOT NULL)`);
  });

  after(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  async function placeOrder(id: string, amount: number, fail = false): Promise<void> {
    await transaction(pool, async (client) => {
      await client.query(`INSERT INTO "${schema}".orders (id, amount) VALUES ($1, $2)`, [id, amount]);
      await outbox.emit(client, OrderPlaced, { orderId: id, amount });
      if (fail) throw new Error('the handler failed after writing');
    });
  }

  async function orderExists(id: string): Promise<boolean> {
    const result = await pool.query(`SELECT 1 FROM "${schema}".orders WHERE id = $1`, [id]);
    return result.rowCount === 1;
  }

  async function outboxOrderIds(): Promise<string[]> {
    const rows = await outbox.peek(1000);
    return rows.map((row) => (decodeRecord(row.record).data as { orderId: string }).orderId);
  }

  it('creates its schema and tables, and opening it again (concurrently) is harmless', async () => {
    const again = await Promise.all([
      postgresOutbox({ pool, schema }),
      postgresOutbox({ pool, schema }),
      postgresOutbox({ pool, schema }),
    ]);
    assert.equal(again.length, 3);
    const tables = await pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [schema],
    );
    assert.deepEqual(
      tables.rows.map((row) => row.table_name),
      ['inbox', 'orders', 'outbox', 'scheduled'],
    );
  });

  it('atomicity: a rollback drops both the business row and the outbox row; a commit keeps both', async () => {
    await assert.rejects(placeOrder('o-rolled-back', 100, true), /the handler failed/);
    assert.equal(await orderExists('o-rolled-back'), false);
    assert.deepEqual(await outboxOrderIds(), []);

    await placeOrder('o-committed', 4200);
    assert.equal(await orderExists('o-committed'), true);
    const [row] = await outbox.peek(10);
    assert.ok(row);
    const event = decodeRecord(row.record);
    assert.equal(event.type, 'OrderPlaced');
    assert.equal(event.source, '/test/order-service');
    assert.equal(event.partitionkey, 'o-committed');
    assert.deepEqual(event.data, { orderId: 'o-committed', amount: 4200 });
    assert.equal(row.record.key, 'o-committed');
    assert.equal(row.record.topic, 'orders');
    assert.ok(row.partition >= 0 && row.partition < outbox.partitions);
    await pool.query(`DELETE FROM "${schema}".outbox`);
  });

  it('rejects invalid data with HERALD_VALIDATION, so the transaction rolls back', async () => {
    await assert.rejects(
      transaction(pool, async (client) => {
        await client.query(`INSERT INTO "${schema}".orders (id, amount) VALUES ('o-invalid', 1)`);
        await outbox.emit(client, OrderPlaced, { orderId: 'o-invalid', amount: -5 });
      }),
      (error: unknown) => error instanceof HeraldError && error.code === 'HERALD_VALIDATION',
    );
    assert.equal(await orderExists('o-invalid'), false);
    assert.equal(await outbox.pending(), 0);
  });

  it('stores several records in one call in order, and as a core Publisher bound to the transaction', async () => {
    const events = await Promise.all(
      [1, 2, 3].map((n) => createEvent('/test', OrderPlaced, { orderId: `multi-${n % 2}`, amount: n })),
    );
    await transaction(pool, async (client) => {
      for (const event of events) await outbox.add(client, 'orders', event);
      const publisher: Publisher = outbox.publisher(client);
      await publisher.publish(OrderPlaced, { orderId: 'multi-0', amount: 4 });
    });
    const rows = await outbox.peek(10);
    assert.deepEqual(
      rows.map((row) => (decodeRecord(row.record).data as { amount: number }).amount),
      [1, 2, 3, 4],
    );
    const seqs = rows.map((row) => BigInt(row.seq));
    assert.deepEqual(
      [...seqs].sort((a, b) => (a < b ? -1 : 1)),
      seqs,
    );
    await pool.query(`DELETE FROM "${schema}".outbox`);
  });

  it('notifies the relay channel on commit only, once per transaction', async () => {
    const listener = new pg.Client({ connectionString: DATABASE_URL });
    await listener.connect();
    const notifications: string[] = [];
    listener.on('notification', (message) => notifications.push(message.channel));
    await listener.query(`LISTEN "${outbox.channel}"`);
    try {
      await assert.rejects(placeOrder('o-notify-rollback', 1, true));
      await transaction(pool, async (client) => {
        await outbox.emit(client, OrderPlaced, { orderId: 'o-notify-1', amount: 1 });
        await outbox.emit(client, OrderPlaced, { orderId: 'o-notify-2', amount: 2 });
      });
      const quiet = await postgresOutbox({ pool, schema, source: '/test/order-service', notify: false });
      await transaction(pool, async (client) => {
        await quiet.emit(client, OrderPlaced, { orderId: 'o-quiet', amount: 3 });
      });
      // A round trip on the listening connection flushes notifications that arrived before it.
      await listener.query('SELECT 1');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(notifications, [outbox.channel]);
      assert.equal(await outbox.pending(), 3);
    } finally {
      await listener.end();
      await pool.query(`DELETE FROM "${schema}".outbox`);
    }
  });

  it('key locks: a second writer of the same key waits for the first to commit, so seq follows commit order', async () => {
    const first = await pool.connect();
    const second = await pool.connect();
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      await outbox.emit(first, OrderPlaced, { orderId: 'same-key', amount: 1 });
      // Another key is not held up by the first writer.
      await outbox.emit(second, OrderPlaced, { orderId: 'other-key', amount: 9 });
      let secondDone = false;
      const secondWrite = outbox.emit(second, OrderPlaced, { orderId: 'same-key', amount: 2 }).then(() => {
        secondDone = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.equal(secondDone, false, 'the second writer of the key waits');
      await first.query('COMMIT');
      await secondWrite;
      await second.query('COMMIT');
      const rows = (await outbox.peek(10)).filter((row) => row.record.key === 'same-key');
      assert.deepEqual(
        rows.map((row) => (decodeRecord(row.record).data as { amount: number }).amount),
        [1, 2],
      );
    } finally {
      first.release();
      second.release();
      await pool.query(`DELETE FROM "${schema}".outbox`);
    }
  });

  it('checks its options at start-up with HERALD_CONFIG', async () => {
    const config = (option: string) => (error: unknown) =>
      error instanceof HeraldError && error.code === 'HERALD_CONFIG' && error.details?.option === option;
    await assert.rejects(postgresOutbox({ pool, schema: 'Bad-Name' }), config('schema'));
    await assert.rejects(postgresOutbox({ pool, schema: 'pg_catalog' }), config('schema'));
    await assert.rejects(postgresOutbox({ pool, schema, partitions: 0 }), config('partitions'));
    // The first outbox recorded its partition count with the table; every writer must spread keys the same way.
    assert.equal(outbox.partitions, 16);
    await assert.rejects(postgresOutbox({ pool, schema, partitions: 8 }), config('partitions'));
    assert.equal((await postgresOutbox({ pool, schema, partitions: 16 })).partitions, 16);
    const eight = uniqueSchema('eight');
    try {
      assert.equal((await postgresOutbox({ pool, schema: eight, partitions: 8 })).partitions, 8);
      assert.equal((await postgresOutbox({ pool, schema: eight })).partitions, 8);
    } finally {
      await dropSchema(pool, eight);
    }
    await assert.rejects(postgresOutbox({ pool, schema, source: '' }), config('source'));
    await assert.rejects(postgresOutbox({ pool: {} as unknown as pg.Pool, schema }), config('pool'));
    const noSource = await postgresOutbox({ pool, schema });
    await assert.rejects(
      transaction(pool, (client) => noSource.emit(client, OrderPlaced, { orderId: 'x', amount: 1 })),
      config('source'),
    );
  });

  it('an unreachable database fails at start-up with HERALD_TRANSPORT', async () => {
    const nowhere = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    try {
      await assert.rejects(
        postgresOutbox({ pool: nowhere, schema: 'unreachable' }),
        (error: unknown) =>
          error instanceof HeraldError && error.code === 'HERALD_TRANSPORT' && !error.permanent,
      );
    } finally {
      await nowhere.end();
    }
  });
});
