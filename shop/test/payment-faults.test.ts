import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { memory } from '@herald/core';
import { waitFor } from '@herald/core/testing';
import { OrderPlaced, SERVICES } from '../src/contracts/index.ts';
import { PaymentFaults } from '../src/payment/faults.ts';
import { paymentHttp } from '../src/payment/http.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { makePayment, publisherAs } from './in-process.ts';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

async function setup() {
  const transport = memory();
  const payment = await makePayment(transport);
  await payment.start();
  closers.push(async () => {
    await payment.close();
    await transport.close();
  });
  const orders = publisherAs(transport, SERVICES.order.source);
  const placed = (orderId: string) => ({
    orderId,
    userId: 'ada',
    items: [{ sku: 'KB-101', quantity: 1, unitPriceCents: 8900 }],
    amountCents: 8900,
  });
  return { transport, payment, orders, placed };
}

describe('payment faults', () => {
  it('provider-down dead-letters OrderPlaced with a stable error; after it is off a replay charges', async () => {
    const t = await setup();
    t.payment.faults.set('provider-down', true);
    await t.orders.publish(OrderPlaced, t.placed('o-1'));
    const queue = t.transport.deadLetters!;
    await waitFor(async () => (await queue.list()).length === 1);
    const [deadLetter] = await queue.list();
    assert.equal(deadLetter!.group, 'payment-service');
    assert.equal(deadLetter!.failure.reason, 'max-attempts');
    assert.equal(deadLetter!.failure.error.name, 'PaymentProviderUnavailable');
    assert.equal(deadLetter!.failure.error.code, 'SHOP_PAYMENT_PROVIDER_DOWN');
    assert.equal(await t.payment.store.get('o-1'), undefined, 'nothing written while the fault is on');

    t.payment.faults.set('provider-down', false);
    await queue.replay(deadLetter!.id);
    await waitFor(async () => (await t.payment.store.get('o-1'))?.status === 'charged');
    assert.deepEqual(
      (await t.payment.store.ledger()).map((e) => [e.orderId, e.kind]),
      [['o-1', 'charge']],
    );
  });

  it('PAYMENT_FAULTS switches faults on at start-up and refuses unknown ones', () => {
    assert.equal(PaymentFaults.fromEnv({ PAYMENT_FAULTS: 'provider-down' }).isOn('provider-down'), true);
    assert.equal(PaymentFaults.fromEnv({}).isOn('provider-down'), false);
    assert.throws(() => PaymentFaults.fromEnv({ PAYMENT_FAULTS: 'meteor' }), /PAYMENT_FAULTS/);
  });

  it('GET/POST /admin/faults lists and switches them, with the console token when one is set', async () => {
    const t = await setup();
    const open = paymentHttp(t.payment, silentLogger);
    const listed = await open.inject({ method: 'GET', url: '/admin/faults' });
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(
      listed.json<{ faults: { name: string; enabled: boolean }[] }>().faults.map((f) => [f.name, f.enabled]),
      [['provider-down', false]],
    );
    const unknown = await open.inject({
      method: 'POST',
      url: '/admin/faults',
      payload: { name: 'x', enabled: true },
    });
    assert.equal(unknown.statusCode, 404);
    const invalid = await open.inject({
      method: 'POST',
      url: '/admin/faults',
      payload: { name: 'provider-down' },
    });
    assert.equal(invalid.statusCode, 400);

    process.env.HERALD_CONSOLE_TOKEN = 'a-token-of-sixteen-or-more';
    const guarded = paymentHttp(t.payment, silentLogger);
    delete process.env.HERALD_CONSOLE_TOKEN;
    const payload = { name: 'provider-down', enabled: true };
    const refused = await guarded.inject({ method: 'POST', url: '/admin/faults', payload });
    assert.equal(refused.statusCode, 401);
    assert.equal(t.payment.faults.isOn('provider-down'), false);
    const switched = await guarded.inject({
      method: 'POST',
      url: '/admin/faults',
      payload,
      headers: { authorization: 'Bearer a-token-of-sixteen-or-more' },
    });
    assert.equal(switched.statusCode, 200);
    assert.equal(t.payment.faults.isOn('provider-down'), true);
    await open.close();
    await guarded.close();
  });
});
