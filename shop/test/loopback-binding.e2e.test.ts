/**
 * Every HTTP surface of `npm start` (the four services and the console) listens on 127.0.0.1 by default and on no
 * other interface: each printed URL is a loopback one, and a connection to the same port on each of the machine's
 * other addresses is refused. With a token set (`HERALD_CONSOLE_TOKEN`, which `npm start` hands to the services),
 * the admin actions need it: the payment service's `POST /admin/faults` and the console's dead-letter and fault
 * actions answer 401 without it. (The rule that a non-loopback console host needs a token is tested in
 * packages/console/test/config.test.ts; the token check of `/admin/faults` in payment-faults.test.ts.)
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, it } from 'node:test';
import { json, npmStart, text } from './e2e/npm-start.ts';

const TOKEN = 'loopback-test-token-0123456789';
const CONSOLE_LINE = /^ {2}herald-console +(http:\/\/\S+) +\(pid (\d+)\)$/m;

/** The machine's addresses other than loopback ones. */
function otherAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && !i.internal && !i.address.startsWith('fe80:'))
    .map((i) => i!.address);
}

/** Whether something accepts a TCP connection on `host:port`. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('the HTTP surfaces of npm start', () => {
  it('listen on loopback only, and admin actions need the token when one is set', async () => {
    const running = await npmStart({
      HERALD_CONSOLE: 'on',
      HERALD_CONSOLE_PORT: '0',
      HERALD_CONSOLE_TOKEN: TOKEN,
    });
    try {
      const consoleUrl = CONSOLE_LINE.exec(text(running))?.[1];
      assert.ok(consoleUrl, text(running));
      const urls = [...[...running.services.values()].map((s) => s.url), consoleUrl];
      const others = otherAddresses();
      for (const url of urls) {
        const { hostname, port } = new URL(url);
        assert.equal(hostname, '127.0.0.1', `${url} is a loopback URL`);
        assert.ok(await accepts('127.0.0.1', Number(port)), `${url} answers on loopback`);
        for (const address of others)
          assert.equal(await accepts(address, Number(port)), false, `${url} is not reachable on ${address}`);
      }

      const paymentUrl = running.services.get('payment-service')!.url;
      const switchFault = (headers: Record<string, string>) =>
        fetch(`${paymentUrl}/admin/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ name: 'provider-down', enabled: false }),
        });
      assert.equal(
        (await switchFault({})).status,
        401,
        'the payment service refuses a fault switch without it',
      );
      assert.equal((await switchFault({ authorization: 'Bearer wrong-token-0123456789' })).status, 401);
      assert.equal((await switchFault({ authorization: `Bearer ${TOKEN}` })).status, 200);

      const info = await json(`${consoleUrl}/api/info`);
      assert.equal(info.body.tokenRequired, true);
      for (const [path, body] of [
        ['/api/dead-letters/replay', { ids: ['none'] }],
        ['/api/dead-letters/discard', { ids: ['none'] }],
        ['/api/services/payment-service/faults', { name: 'provider-down', enabled: false }],
      ] as const) {
        const refused = await fetch(`${consoleUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.equal(refused.status, 401, `the console refuses ${path} without the token`);
      }
      const forwarded = await fetch(`${consoleUrl}/api/services/payment-service/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ name: 'provider-down', enabled: false }),
      });
      assert.equal(forwarded.status, 200, 'with the token the console forwards the switch');
    } finally {
      running.npm.kill('SIGTERM');
      await running.exited;
    }
  });
});
