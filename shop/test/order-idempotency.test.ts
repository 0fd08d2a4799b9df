import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { memory } from '@herald/core';
import { orderHttp } from '../src/order/http.ts';
import { orderStores } from '../src/order/store.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { makeOrder } from './in-process.ts';

describe('POST /orders with an Idempotency-Key', () => {
  const transport = memory();
  let order: Awaited<ReturnType<typeof makeOrder>>;
  let app: ReturnType<typeof orderHttp>;
  before(async () => {
    order = await makeOrder(transport);
    app = orderHttp(order, silentLogger);
  });
  after(async () => {
    await app.close();
    await order.close();
    await transport.close();
  });

  const body = { userId: 'ada', items: [{ sku: 'KB-101', quantity: 1 }] };
  const post = (key: string | undefined, payload: object = body) =>
    app.inject({
      method: 'POST',
      url: '/orders',
      payload,
      headers: key === undefined ? {} : { 'idempotency-key': key },
    });
  const ordersOf = async (userId: string) =>
    (await order.store.recent(1000)).filter((o) => o.userId === userId);

  it('answers a retry with the same order, marked as a replay, and places one order', async () => {
    const payload = { ...body, userId: 'retry-user' };
    const first = await post('key-retry-1', payload);
    const second = await post('key-retry-1', payload);
    assert.equal(first.statusCode, 202);
    assert.equal(second.statusCode, 202);
    assert.equal(second.headers.location, first.headers.location);
    assert.equal(second.json<{ orderId: string }>().orderId, first.json<{ orderId: string }>().orderId);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.equal((await ordersOf('retry-user')).length, 1);
  });

  it('refuses the same key with a different body: 422 problem, nothing placed', async () => {
    const payload = { ...body, userId: 'reuse-user' };
    assert.equal((await post('key-reuse-1', payload)).statusCode, 202);
    const reused = await post('key-reuse-1', { ...payload, items: [{ sku: 'KB-101', quantity: 2 }] });
    assert.equal(reused.statusCode, 422);
    assert.match(reused.headers['content-type'] as string, /^application\/problem\+json/);
    const problem = reused.json<{ title: string; status: number; detail: string; instance: string }>();
    assert.equal(problem.status, 422);
    assert.match(problem.detail, /key-reuse-1.*different request/);
    assert.equal((await ordersOf('reuse-user')).length, 1);
  });

  it('creates one order for concurrent requests with one key', async () => {
    const payload = { ...body, userId: 'race-user' };
    const responses = await Promise.all(Array.from({ length: 10 }, () => post('key-race-1', payload)));
    assert.deepEqual(
      responses.map((r) => r.statusCode),
      Array.from({ length: 10 }, () => 202),
    );
    assert.equal(new Set(responses.map((r) => r.headers.location)).size, 1);
    assert.equal(responses.filter((r) => r.headers['idempotent-replayed'] === 'true').length, 9);
    assert.equal((await ordersOf('race-user')).length, 1);
  });

  it('keeps requests without a key independent', async () => {
    const payload = { ...body, userId: 'no-key-user' };
    assert.equal((await post(undefined, payload)).statusCode, 202);
    assert.equal((await post(undefined, payload)).statusCode, 202);
    assert.equal((await ordersOf('no-key-user')).length, 2);
  });

  it('validates the key: length and characters', async () => {
    for (const bad of ['', 'a'.repeat(256), 'has space', 'a,b', 'é']) {
      const response = await app.inject({
        method: 'POST',
        url: '/orders',
        payload: { ...body, userId: 'bad-key-user' },
        headers: { 'idempotency-key': bad },
      });
      assert.equal(response.statusCode, 400, JSON.stringify(bad));
      assert.match(response.json<{ title: string }>().title, /Idempotency-Key/);
    }
    assert.equal((await ordersOf('bad-key-user')).length, 0);
    assert.equal((await post('a'.repeat(255), { ...body, userId: 'long-key-user' })).statusCode, 202);
  });
});

describe('order store on an SQLite file from before idempotency keys', () => {
  it('adds the key columns and the unique index', async () => {
    const db = new BetterSqlite3(':memory:');
    try {
      db.exec(`CREATE TABLE orders (
        order_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
        amount_cents INTEGER NOT NULL, items TEXT NOT NULL, payment TEXT NOT NULL DEFAULT 'pending',
        stock TEXT NOT NULL DEFAULT 'pending', created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
      const store = orderStores.sqlite(db);
      const at = new Date().toISOString();
      const idempotency = { key: 'k', requestHash: 'h' };
      await store.insert({ orderId: 'o1', userId: 'u', amountCents: 1, items: [], at, idempotency });
      await assert.rejects(
        async () => store.insert({ orderId: 'o2', userId: 'u', amountCents: 1, items: [], at, idempotency }),
        /UNIQUE/,
      );
      assert.deepEqual(await store.byIdempotencyKey('k'), { orderId: 'o1', key: 'k', requestHash: 'h' });
    } finally {
      db.close();
    }
  });
});
