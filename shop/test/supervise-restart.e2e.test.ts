/**
 * A SIGKILLed payment service is restarted by `npm start` (logged with its backoff), answers `/health/live` again
 * at the same URL, and an order placed while it was down ends CONFIRMED. Then SIGKILL of npm itself (the
 * supervisor is reparented) stops everything too. See `e2e/npm-start.ts`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alive, assertAllGone, json, npmStart, text, waitFor } from './e2e/npm-start.ts';

describe('npm start', { timeout: 175_000 }, () => {
  it('restarts a SIGKILLed service with backoff; an order placed meanwhile is confirmed', async () => {
    const running = await npmStart();
    const payment = running.services.get('payment-service')!;
    const order = running.services.get('order-service')!;
    process.kill(payment.pid, 'SIGKILL');
    await waitFor('the restart line', running, () =>
      /payment-service exited with signal SIGKILL; restarting in 500 ms \(restart 1\)/.test(text(running))
        ? true
        : undefined,
    );
    const placed = await json(`${order.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'ada', items: [{ sku: 'KB-101', quantity: 1 }] }),
    });
    assert.equal(placed.status, 202);
    const back = await waitFor('payment back', running, () => {
      const match = /payment-service is back at (\S+) \(pid (\d+)\)/.exec(text(running));
      return match === null ? undefined : { url: match[1]!, pid: Number(match[2]) };
    });
    assert.equal(back.url, payment.url, 'a restarted service keeps its URL');
    assert.notEqual(back.pid, payment.pid);
    assert.equal(alive(payment.pid), false);
    assert.equal((await fetch(`${payment.url}/health/live`)).status, 200);
    const status = await waitFor('the order outcome', running, async () => {
      const { body } = await json(`${order.url}/orders/${String(placed.body.orderId)}`);
      return body.status === 'PENDING' ? undefined : body.status;
    });
    assert.equal(status, 'CONFIRMED');

    // npm killed outright: the supervisor is reparented, notices, and stops the shop.
    const since = Date.now();
    running.npm.kill('SIGKILL');
    const services = new Map([...running.services, ['payment-service', back]]);
    const took = await assertAllGone({ ...running, services }, since);
    console.log(`# all stopped ${took} ms after SIGKILL of npm`);
  });
});
