import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { inventoryHttp } from '../src/inventory/http.ts';
import { notificationHttp } from '../src/notification/http.ts';
import { orderHttp } from '../src/order/http.ts';
import { paymentHttp } from '../src/payment/http.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { inProcessShop } from './in-process.ts';

/**
 * Issue 9 item 4: hostile and malformed HTTP input, sent on real sockets to the four services as built. Every
 * answer must be a 4xx problem document, never a 5xx, a hang or a crash, and nothing may be created by it.
 */

interface Answer {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/** Writes `request` (head + body bytes) on a raw socket; resolves with the first response, bounded by 15 s. */
function send(port: number, head: string, body: Buffer = Buffer.alloc(0)): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 15 s to ${head.split('\r\n')[0]!.slice(0, 80)}`));
    }, 15_000);
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [responseHead = '', responseBody = ''] = text.split('\r\n\r\n', 2);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(responseHead)?.[1] ?? 0);
      if (status === 0) {
        reject(new Error(`no HTTP response to ${head.split('\r\n')[0]!.slice(0, 80)}`));
        return;
      }
      resolve({ status, head: responseHead, body: responseBody });
    };
    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      // One response is enough: the server may keep reading (or drop) a body it refused.
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text.slice(0, split))?.[1];
      if (split >= 0 && length !== undefined && Buffer.byteLength(text.slice(split + 4)) >= Number(length)) {
        socket.destroy();
        finish();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!socket.destroyed || chunks.length > 0) finish();
      else finish();
    });
    socket.on('connect', () => {
      socket.write(head);
      if (body.length > 0) socket.write(body);
    });
  });
}

function request(
  method: string,
  path: string,
  body?: Buffer | string,
  type = 'application/json',
): [string, Buffer] {
  const bytes =
    body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const head =
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
    (body === undefined ? '' : `Content-Type: ${type}\r\nContent-Length: ${bytes.length}\r\n`) +
    '\r\n';
  return [head, bytes];
}

function assertProblem(answer: Answer, expected: number | 'any-4xx', what: string): Record<string, unknown> {
  if (expected === 'any-4xx')
    assert.ok(answer.status >= 400 && answer.status < 500, `${what}: got ${answer.status}`);
  else assert.equal(answer.status, expected, `${what}: ${answer.body.slice(0, 300)}`);
  assert.match(answer.head, /content-type: application\/problem\+json/i, `${what}: a problem document`);
  const problem = JSON.parse(answer.body) as Record<string, unknown>;
  assert.equal(problem.status, answer.status, `${what}: problem.status`);
  assert.equal(typeof problem.detail, 'string', `${what}: problem.detail`);
  return problem;
}

const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('hostile input to the shop services (issue 9 item 4)', () => {
  let shop: Awaited<ReturnType<typeof inProcessShop>>;
  const apps: Record<string, FastifyInstance> = {};
  const ports: Record<string, number> = {};
  before(async () => {
    shop = await inProcessShop();
    apps.order = orderHttp(shop.order, silentLogger);
    apps.payment = paymentHttp(shop.payment, silentLogger);
    apps.inventory = inventoryHttp(shop.inventory, silentLogger);
    apps.notification = notificationHttp(shop.notification, silentLogger);
    for (const [name, app] of Object.entries(apps)) {
      await app.listen({ host: '127.0.0.1', port: 0 });
      ports[name] = (app.server.address() as AddressInfo).port;
    }
  });
  after(async () => {
    for (const app of Object.values(apps)) await app.close();
    await shop.close();
  });

  const bodies: { name: string; body: Buffer | string; type?: string; status: number; detail?: RegExp }[] = [
    { name: 'wrong field types', body: '{"userId":5,"items":"many"}', status: 400, detail: /userId|items/ },
    { name: 'an array instead of an object', body: '[1,2,3]', status: 400 },
    { name: 'a JSON string', body: '"order"', status: 400 },
    { name: 'null', body: 'null', status: 400 },
    { name: 'invalid JSON', body: '{"userId": "ada",', status: 400, detail: /not valid JSON/ },
    {
      name: 'invalid UTF-8',
      body: Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]),
      status: 400,
      detail: /UTF-8/,
    },
    { name: 'XML', body: '<order/>', type: 'application/xml', status: 415 },
    { name: 'a form', body: 'userId=ada', type: 'application/x-www-form-urlencoded', status: 415 },
    { name: 'multipart', body: '--x\r\n\r\n--x--', type: 'multipart/form-data; boundary=x', status: 415 },
    { name: 'JSON in Latin-1', body: '{}', type: 'application/json; charset=latin1', status: 415 },
    { name: 'nesting 10,000 deep', body: `{"userId":"ada","items":${nested(10_000)}}`, status: 400 },
    { name: 'a body nested 10,000 deep', body: nested(10_000), status: 400 },
    {
      name: '__proto__ key',
      body: '{"__proto__":{"admin":true},"userId":"ada","items":[]}',
      status: 400,
      detail: /__proto__/,
    },
    {
      name: 'constructor key, deep',
      body: '{"userId":"ada","items":[{"constructor":{"prototype":1}}]}',
      status: 400,
    },
    {
      name: '5,000 items within the size limit',
      body: JSON.stringify({
        userId: 'ada',
        items: Array.from({ length: 5_000 }, () => ({ sku: 'KB-101', quantity: 1 })),
      }),
      status: 400,
      detail: /items/,
    },
    {
      name: '100,000 items',
      body: JSON.stringify({
        userId: 'ada',
        items: Array.from({ length: 100_000 }, () => ({ sku: 'KB-101', quantity: 1 })),
      }),
      status: 413,
    },
    {
      name: 'a 1 MB string',
      body: JSON.stringify({ userId: 'x'.repeat(1024 * 1024), items: [] }),
      status: 413,
    },
    { name: 'a 10 MB body', body: Buffer.alloc(10 * 1024 * 1024, 0x20), status: 413 },
    {
      name: 'a 200 KB user id',
      body: JSON.stringify({ userId: 'x'.repeat(200 * 1024), items: [{ sku: 'KB-101', quantity: 1 }] }),
      status: 400,
      detail: /userId/,
    },
    {
      name: 'a negative quantity',
      body: '{"userId":"ada","items":[{"sku":"KB-101","quantity":-1}]}',
      status: 400,
      detail: /quantity/,
    },
    {
      name: 'a huge quantity',
      body: '{"userId":"ada","items":[{"sku":"KB-101","quantity":1e308}]}',
      status: 400,
      detail: /quantity/,
    },
    { name: 'an empty body', body: '', status: 400 },
  ];
  for (const c of bodies) {
    it(`POST /orders with ${c.name}: ${c.status}`, async () => {
      const answer = await send(ports.order!, ...request('POST', '/orders', c.body, c.type));
      const problem = assertProblem(answer, c.status, c.name);
      if (c.detail !== undefined) assert.match(JSON.stringify(problem), c.detail);
    });
  }

  const paths: { service: string; method: string; path: string }[] = [
    { service: 'order', method: 'GET', path: '/orders/../products' },
    { service: 'order', method: 'GET', path: '/orders/%2e%2e/products' },
    { service: 'order', method: 'GET', path: '/orders/..%2f..%2fetc%2fpasswd' },
    { service: 'order', method: 'GET', path: '/orders/%00' },
    { service: 'order', method: 'GET', path: '/orders/%ff%fe' },
    { service: 'order', method: 'GET', path: `/orders/${'a'.repeat(8 * 1024)}` },
    { service: 'order', method: 'GET', path: `/orders?${'limit=1&'.repeat(3000)}` },
    { service: 'order', method: 'GET', path: '/orders?limit=-1' },
    { service: 'order', method: 'GET', path: '/orders?limit=abc' },
    { service: 'order', method: 'GET', path: '/orders?limit=1e9' },
    { service: 'order', method: 'GET', path: `/${'x'.repeat(20 * 1024)}` },
    { service: 'order', method: 'DELETE', path: '/orders' },
    { service: 'order', method: 'PUT', path: '/products' },
    { service: 'payment', method: 'GET', path: '/ledger?after=%27%20OR%201%3D1--' },
    { service: 'payment', method: 'GET', path: '/ledger?limit=0' },
    { service: 'payment', method: 'POST', path: '/payments' },
    { service: 'inventory', method: 'GET', path: '/stock/../../health' },
    { service: 'inventory', method: 'POST', path: '/stock' },
    { service: 'notification', method: 'GET', path: '/notifications/%2e%2e' },
  ];
  for (const c of paths) {
    it(`${c.service}: ${c.method} ${c.path.slice(0, 60)}${c.path.length > 60 ? '…' : ''} is a 4xx problem`, async () => {
      assertProblem(
        await send(ports[c.service]!, ...request(c.method, c.path)),
        'any-4xx',
        c.path.slice(0, 60),
      );
    });
  }

  it('after all of it every service is healthy and no order, payment, reservation or notification exists', async () => {
    for (const [name, port] of Object.entries(ports)) {
      const answer = await send(port, ...request('GET', '/health'));
      assert.equal(answer.status, 200, `${name} /health`);
    }
    assert.deepEqual(await shop.order.listOrders(undefined, 10), []);
    assert.deepEqual(await shop.payment.store.ledger(), []);
    assert.deepEqual(await shop.notification.store.recent(10), []);
  });
});
