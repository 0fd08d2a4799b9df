import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { memory } from '@herald/core';
import { newEventId } from '@herald/core';
import type { FastifyInstance } from 'fastify';
import { notificationHttp } from '../src/notification/http.ts';
import { orderHttp } from '../src/order/http.ts';
import { paymentHttp } from '../src/payment/http.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { encodeCursor } from '../src/runtime/pagination.ts';
import { makeNotification, makeOrder, makePayment } from './in-process.ts';

/**
 * Follows the `Link: <…>; rel="next"` headers from `url` to the end; returns each page's rows and calls
 * `between` after each page (to change the data mid-walk). Stops with a failure after `maxPages`.
 */
async function walk<Row>(
  app: FastifyInstance,
  url: string,
  maxPages: number,
  between: (page: number) => Promise<void> = () => Promise.resolve(),
): Promise<Row[][]> {
  const pages: Row[][] = [];
  let next: string | undefined = url;
  while (next !== undefined) {
    assert.ok(pages.length < maxPages, `more than ${maxPages} pages from ${url}`);
    const response: Awaited<ReturnType<FastifyInstance['inject']>> = await app.inject({
      method: 'GET',
      url: next,
    });
    assert.equal(response.statusCode, 200, response.body);
    pages.push(response.json<Row[]>());
    const link = response.headers.link as string | undefined;
    next = link === undefined ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
    if (link !== undefined) assert.ok(next !== undefined, `malformed Link header: ${link}`);
    await between(pages.length);
  }
  return pages;
}

/** Asserts that `path` refuses bad limits and cursors with a 400 problem naming the parameter. */
async function assertRefusesBadQueries(app: FastifyInstance, path: string): Promise<void> {
  const queries = [
    'limit=0',
    'limit=1001',
    'limit=abc',
    'limit=2.5',
    'after=',
    'after=not%20base64',
    'after=%2B%2F', // "+/": base64, not base64url
    'after=YQ', // canonical base64url of "a", but no row has that key
    `after=${'A'.repeat(5000)}`,
    'after=_w', // 0xff: not UTF-8
  ];
  for (const query of queries) {
    const response = await app.inject({ method: 'GET', url: `${path}?${query}` });
    const problem = response.json<{ status: number; errors?: { field: string }[] }>();
    assert.equal(response.statusCode, 400, `${path}?${query}: ${response.body}`);
    assert.match(response.headers['content-type'] as string, /^application\/problem\+json/);
    assert.equal(problem.status, 400);
    assert.ok(
      problem.errors?.some((e) => e.field === query.split('=')[0]),
      `${path}?${query} names the parameter: ${response.body}`,
    );
  }
}

describe('GET /ledger is paginated', () => {
  const transport = memory();
  let payment: Awaited<ReturnType<typeof makePayment>>;
  let app: ReturnType<typeof paymentHttp>;
  const rows = 250;
  before(async () => {
    payment = await makePayment(transport);
    app = paymentHttp(payment, silentLogger);
    await payment.storage.run(async ({ store }) => {
      for (let i = 0; i < rows; i++)
        await store.addLedger({
          orderId: `order-${i}`,
          kind: 'charge',
          amountCents: 100 + i,
          paymentId: `p-${i}`,
        });
    });
  });
  after(async () => {
    await app.close();
    await payment.close();
    await transport.close();
  });

  it('serves 100 rows by default and links to the next page', async () => {
    const response = await app.inject({ method: 'GET', url: '/ledger' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json<unknown[]>().length, 100);
    assert.match(response.headers.link as string, /^<\/ledger\?limit=100&after=\d+>; rel="next"$/);
  });

  it('walks every row exactly once by following the Link header', async () => {
    const seen: string[] = [];
    let url: string | undefined = '/ledger?limit=70';
    let pages = 0;
    while (url !== undefined && pages < 20) {
      const response: Awaited<ReturnType<typeof app.inject>> = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200);
      seen.push(...response.json<{ orderId: string }[]>().map((e) => e.orderId));
      url = /^<([^>]+)>; rel="next"$/.exec((response.headers.link as string | undefined) ?? '')?.[1];
      pages++;
    }
    assert.equal(pages, 4);
    assert.deepEqual(
      seen,
      Array.from({ length: rows }, (_, i) => `order-${i}`),
    );
  });

  it('refuses a bad limit or cursor with a 400 problem', async () => {
    for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'after=-1', 'after=x']) {
      const response = await app.inject({ method: 'GET', url: `/ledger?${query}` });
      assert.equal(response.statusCode, 400, query);
      assert.match(response.headers['content-type'] as string, /^application\/problem\+json/);
    }
    assert.equal(
      (await app.inject({ method: 'GET', url: '/ledger?limit=1000' })).json<unknown[]>().length,
      rows,
    );
  });
});

describe('GET /orders is paginated', () => {
  const transport = memory();
  let order: Awaited<ReturnType<typeof makeOrder>>;
  let app: FastifyInstance;
  const placed: string[] = [];
  before(async () => {
    order = await makeOrder(transport);
    app = orderHttp(order, silentLogger);
    // Placed back to back, many share a millisecond: the order id breaks the ties.
    for (let i = 0; i < 230; i++)
      placed.push(
        (await order.placeOrder({ userId: `u${i}`, items: [{ sku: 'CB-606', quantity: 1 }] })).orderId,
      );
  });
  after(async () => {
    await app.close();
    await order.close();
    await transport.close();
  });

  it('serves 100 orders by default, newest first, and links to the next page', async () => {
    const response = await app.inject({ method: 'GET', url: '/orders' });
    assert.equal(response.statusCode, 200);
    const rows = response.json<{ orderId: string }[]>();
    assert.equal(rows.length, 100);
    assert.equal(rows[0]!.orderId, placed.at(-1));
    assert.equal(
      response.headers.link,
      `</orders?limit=100&after=${encodeCursor(rows.at(-1)!.orderId)}>; rel="next"`,
    );
  });

  it('walks every order exactly once, newest first, while new orders arrive', async () => {
    const late: string[] = [];
    const pages = await walk<{ orderId: string; createdAt: string }>(
      app,
      '/orders?limit=60',
      10,
      async () => {
        late.push(
          (await order.placeOrder({ userId: 'late', items: [{ sku: 'CB-606', quantity: 1 }] })).orderId,
        );
      },
    );
    assert.deepEqual(
      pages.map((p) => p.length),
      [60, 60, 60, 50],
    );
    // Orders placed during the walk are newer than its cursor: the walk neither shows them nor shifts.
    assert.deepEqual(
      pages.flat().map((o) => o.orderId),
      [...placed].reverse(),
    );
    const first = await app.inject({ method: 'GET', url: `/orders?limit=${late.length}` });
    assert.deepEqual(
      first.json<{ orderId: string }[]>().map((o) => o.orderId),
      [...late].reverse(),
    );
  });

  it('refuses a bad limit or cursor with a 400 problem', async () => {
    await assertRefusesBadQueries(app, '/orders');
  });
});

describe('GET /payments is paginated', () => {
  const transport = memory();
  let payment: Awaited<ReturnType<typeof makePayment>>;
  let app: FastifyInstance;
  const orderIds = Array.from({ length: 210 }, () => newEventId());
  before(async () => {
    payment = await makePayment(transport);
    app = paymentHttp(payment, silentLogger);
    await payment.storage.run(async ({ store }) => {
      for (const [i, orderId] of orderIds.entries())
        await store.put({
          orderId,
          status: 'charged',
          amountCents: 100 + i,
          paymentId: `p-${i}`,
          reason: undefined,
        });
    });
  });
  after(async () => {
    await app.close();
    await payment.close();
    await transport.close();
  });

  it('serves 100 payments by default and links to the next page', async () => {
    const response = await app.inject({ method: 'GET', url: '/payments' });
    assert.equal(response.statusCode, 200);
    const rows = response.json<{ orderId: string; amount: number }[]>();
    assert.equal(rows.length, 100);
    assert.equal(rows[0]!.orderId, [...orderIds].sort().at(-1));
    assert.match(response.headers.link as string, /^<\/payments\?limit=100&after=[\w-]+>; rel="next"$/);
  });

  it('walks every payment exactly once while payments change between pages', async () => {
    // After each page a payment the walk has not reached yet changes (the smallest ids come last): it must
    // still be listed once, in its place, with its new state.
    const ascending = [...orderIds].sort();
    const refunded: string[] = [];
    const pages = await walk<{ orderId: string; status: string }>(app, '/payments?limit=50', 10, async () => {
      const unseen = ascending[refunded.length]!;
      refunded.push(unseen);
      await payment.storage.run(async ({ store }) => {
        await store.put({ ...(await store.get(unseen))!, status: 'refunded' });
      });
    });
    assert.deepEqual(
      pages.map((p) => p.length),
      [50, 50, 50, 50, 10],
    );
    assert.deepEqual(
      pages.flat().map((p) => p.orderId),
      [...orderIds].sort().reverse(),
    );
    const statuses = new Map(pages.flat().map((p) => [p.orderId, p.status]));
    assert.deepEqual(
      refunded.slice(0, 4).map((id) => statuses.get(id)),
      ['refunded', 'refunded', 'refunded', 'refunded'],
    );
  });

  it('refuses a bad limit or cursor with a 400 problem', async () => {
    // A payment cursor is a position in order-id order: any well-formed one is valid, even of a missing row.
    const unknownKey = await app.inject({ method: 'GET', url: '/payments?after=YQ' });
    assert.equal(unknownKey.statusCode, 200);
    for (const query of ['limit=0', 'limit=1001', 'after=', 'after=%2B%2F', 'after=_w']) {
      const response = await app.inject({ method: 'GET', url: `/payments?${query}` });
      assert.equal(response.statusCode, 400, query);
      assert.match(response.headers['content-type'] as string, /^application\/problem\+json/);
    }
  });
});

describe('GET /notifications is paginated', () => {
  const transport = memory();
  let notification: Awaited<ReturnType<typeof makeNotification>>;
  let app: FastifyInstance;
  const ids: string[] = [];
  before(async () => {
    notification = await makeNotification(transport);
    app = notificationHttp(notification, silentLogger);
    await notification.storage.run(async ({ store }) => {
      for (let i = 0; i < 150; i++) {
        const notificationId = newEventId();
        ids.push(notificationId);
        await store.claim(
          { notificationId, orderId: `order-${i}`, userId: `u${i}`, outcome: 'confirmed', message: `m${i}` },
          'log',
        );
      }
    });
  });
  after(async () => {
    await app.close();
    await notification.close();
    await transport.close();
  });

  it('walks every notification exactly once, newest first', async () => {
    const pages = await walk<{ notificationId: string; createdAt: string }>(
      app,
      '/notifications?limit=40',
      10,
    );
    assert.deepEqual(
      pages.map((p) => p.length),
      [40, 40, 40, 30],
    );
    const rows = pages.flat();
    assert.deepEqual([...rows.map((n) => n.notificationId)].sort(), [...ids].sort());
    for (let i = 1; i < rows.length; i++)
      assert.ok(rows[i - 1]!.createdAt >= rows[i]!.createdAt, 'newest first');
    const first = await app.inject({ method: 'GET', url: '/notifications' });
    assert.equal(first.json<unknown[]>().length, 100);
    assert.ok(first.headers.link !== undefined);
  });

  it('refuses a bad limit or cursor with a 400 problem', async () => {
    await assertRefusesBadQueries(app, '/notifications');
  });
});
