import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { memory } from '@herald/core';
import { paymentHttp } from '../src/payment/http.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { makePayment } from './in-process.ts';

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
