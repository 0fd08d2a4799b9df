import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { orderHttp } from '../src/order/http.ts';
import { createHttpApp } from '../src/runtime/http.ts';
import { DEFAULT_HTTP_TIMEOUT_MS, httpTimeoutMs } from '../src/runtime/http-timeouts.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { inProcessShop } from './in-process.ts';

interface RawResult {
  readonly response: string;
  readonly closedAfterMs: number;
}

/** Sends `chunks` on a raw socket and collects what the server answers until it closes (bounded by `limitMs`). */
function raw(port: number, chunks: readonly string[], limitMs: number): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let response = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server held the connection open for more than ${limitMs} ms`));
    }, limitMs);
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => (response += data));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ response, closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
    });
  });
}

/** The problem document in a raw HTTP response, after checking its content type. */
function problemOf(response: string): Record<string, unknown> {
  const [head, body] = response.split('\r\n\r\n', 2);
  assert.match(head!, /content-type: application\/problem\+json/i);
  return JSON.parse(body!) as Record<string, unknown>;
}

function assertProblemShape(problem: Record<string, unknown>, status: number): void {
  assert.equal(problem.status, status);
  for (const key of ['type', 'title', 'detail', 'instance'])
    assert.equal(typeof problem[key], 'string', `problem.${key} is a string`);
}

describe('HTTP hardening of the shop servers', () => {
  let shop: Awaited<ReturnType<typeof inProcessShop>>;
  let app: FastifyInstance;
  before(async () => {
    shop = await inProcessShop();
    app = orderHttp(shop.order, silentLogger);
  });
  after(async () => {
    await app.close();
    await shop.close();
  });

  describe('timeouts (item 7)', () => {
    it('reads HERALD_HTTP_TIMEOUT_MS and refuses bad values', () => {
      assert.equal(httpTimeoutMs({}), DEFAULT_HTTP_TIMEOUT_MS);
      assert.equal(httpTimeoutMs({ HERALD_HTTP_TIMEOUT_MS: '2500' }), 2500);
      for (const bad of ['abc', '-1', '1.5', '50', '600001', '1e4'])
        assert.throws(() => httpTimeoutMs({ HERALD_HTTP_TIMEOUT_MS: bad }), /HERALD_HTTP_TIMEOUT_MS/, bad);
    });

    it('answers 408 and closes a request whose body never arrives whole', async () => {
      const slow = createHttpApp({
        service: 'slow',
        log: silentLogger,
        health: () => Promise.resolve({ status: 'ok' as const }),
        timeoutMs: 1000,
      });
      slow.post('/echo', (request) => request.body);
      await slow.listen({ port: 0, host: '127.0.0.1' });
      try {
        const { port } = slow.server.address() as AddressInfo;
        const { response, closedAfterMs } = await raw(
          port,
          [
            'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
            '{"a":',
          ],
          5000,
        );
        assert.ok(closedAfterMs < 3000, `closed after ${closedAfterMs} ms`);
        assert.match(response, /^HTTP\/1\.1 408 /);
        assertProblemShape(problemOf(response), 408);
      } finally {
        await slow.close();
      }
    });

    it('closes a slow body within the default timeout on the services as built', async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const { closedAfterMs } = await raw(
        port,
        [
          'POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n',
          '{"a":',
        ],
        DEFAULT_HTTP_TIMEOUT_MS + 3000,
      );
      assert.ok(closedAfterMs < DEFAULT_HTTP_TIMEOUT_MS + 2000, `closed after ${closedAfterMs} ms`);
    });
  });

  describe('one problem shape for every error (item 8)', () => {
    const cases: {
      name: string;
      method: 'GET' | 'POST';
      url: string;
      status: number;
      body?: string;
      type?: string;
    }[] = [
      { name: 'bad percent-encoding', method: 'GET', url: '/orders/%ff', status: 400 },
      { name: 'id over 100 characters', method: 'GET', url: `/orders/${'a'.repeat(101)}`, status: 400 },
      { name: 'unknown route', method: 'GET', url: '/nope', status: 404 },
      { name: 'unknown order', method: 'GET', url: '/orders/nope', status: 404 },
      {
        name: 'body over the limit',
        method: 'POST',
        url: '/orders',
        status: 413,
        body: JSON.stringify({ userId: 'x'.repeat(300 * 1024) }),
      },
      {
        name: 'text/plain body',
        method: 'POST',
        url: '/orders',
        status: 415,
        body: 'hi',
        type: 'text/plain',
      },
      { name: 'malformed JSON', method: 'POST', url: '/orders', status: 400, body: '{"userId":' },
    ];
    for (const c of cases) {
      it(`${c.name}: ${c.status} problem+json`, async () => {
        const response = await app.inject({
          method: c.method,
          url: c.url,
          ...(c.body === undefined
            ? {}
            : { payload: c.body, headers: { 'content-type': c.type ?? 'application/json' } }),
        });
        assert.equal(response.statusCode, c.status);
        assert.match(response.headers['content-type'] as string, /^application\/problem\+json/);
        assertProblemShape(response.json(), c.status);
      });
    }

    it('answers a URL over 16 KB and malformed HTTP with a problem on the raw socket', async () => {
      if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      const long = await raw(
        port,
        [`GET /orders/${'a'.repeat(17 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`],
        3000,
      );
      assert.match(long.response, /^HTTP\/1\.1 431 /);
      assertProblemShape(problemOf(long.response), 431);
      const garbage = await raw(port, ['NOT HTTP AT ALL\r\n\r\n'], 3000);
      assert.match(garbage.response, /^HTTP\/1\.1 400 /);
      assertProblemShape(problemOf(garbage.response), 400);
    });
  });

  describe('strict JSON bodies (item 9)', () => {
    async function post(payload: string | Buffer, contentType = 'application/json') {
      const response = await app.inject({
        method: 'POST',
        url: '/orders',
        payload,
        headers: { 'content-type': contentType },
      });
      assert.equal(response.statusCode, contentType.includes('latin1') ? 415 : 400);
      assertProblemShape(response.json(), response.statusCode);
      return response.json<{ detail: string }>().detail;
    }
    const order = (userId: string) => `{"userId":${userId},"items":[{"sku":"KB-101","quantity":1}]}`;

    it('refuses invalid UTF-8 instead of replacing it with U+FFFD', async () => {
      const bytes = Buffer.concat([
        Buffer.from('{"userId":"a'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('","items":[{"sku":"KB-101","quantity":1}]}'),
      ]);
      assert.match(await post(bytes), /not valid UTF-8/);
    });
    it('refuses a lone surrogate', async () => {
      assert.match(await post(order('"ada\\ud800"')), /userId contains a lone surrogate \(U\+D800\)/);
    });
    it('accepts a proper surrogate pair', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/orders',
        payload: order('"ada \\ud83d\\ude00"'),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(response.statusCode, 202);
    });
    it('refuses a NUL character', async () => {
      assert.match(await post(order('"ada\\u0000"')), /userId contains a NUL character/);
    });
    it('refuses __proto__ and constructor keys, saying so', async () => {
      assert.match(
        await post('{"__proto__":{"admin":true},"userId":"a","items":[]}'),
        /forbidden key "__proto__"/,
      );
      assert.match(
        await post('{"userId":"a","items":[{"constructor":{"prototype":{}}}]}'),
        /items\.0 has the forbidden key "constructor"/,
      );
    });
    it('refuses a charset other than UTF-8 with 415', async () => {
      assert.match(await post(order('"ada"'), 'application/json; charset=latin1'), /Charset "latin1"/);
    });
  });
});
