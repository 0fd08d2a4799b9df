/**
 * Plain JSON interop is an explicit opt-in (issue 13, item 6): by default a plain `{"event": "OrderPlaced", …}`
 * record is dead-lettered with a reason naming `HERALD_ACCEPT_PLAIN_JSON` and charges nothing; opted in, the
 * payment service charges it (the seed's shape). In both modes payment charges only an `OrderPlaced` it can
 * attribute: a CloudEvent from another source is refused and counted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { memory, registerMessagingMetrics, type DeliveryLabels, type Transport } from '@herald/core';
import { waitFor } from '@herald/core/testing';
import { OrderPlaced, SERVICES } from '../src/contracts/index.ts';
import { paymentService } from '../src/payment/service.ts';
import { acceptPlainJsonFrom } from '../src/runtime/config.ts';
import { closeTestDatabase, publisherAs, testDatabase } from './in-process.ts';

const DEADLINE_MS = 20_000;
const closers: (() => Promise<void>)[] = [];

const counted: (DeliveryLabels & { kind: 'skipped' | 'dead-lettered'; reason: string })[] = [];
async function payment(acceptPlainJson: boolean | undefined) {
  const transport: Transport = memory();
  const database = testDatabase();
  const service = await paymentService({
    database,
    transport,
    relay: { pollIntervalMs: 20 },
    ...(acceptPlainJson === undefined ? {} : { acceptPlainJson }),
  });
  await service.start();
  closers.push(async () => {
    await service.close();
    await transport.close();
    closeTestDatabase(database);
  });
  return { transport, service };
}

/** Publishes the seed's plain JSON `OrderPlaced`, as a client that knows nothing of CloudEvents does. */
async function publishPlain(transport: Transport, orderId: string): Promise<void> {
  const body = { event: 'OrderPlaced', data: { orderId, userId: '456', amount: 100 } };
  await transport.publish([
    { topic: 'orders', key: orderId, attributes: {}, data: new TextEncoder().encode(JSON.stringify(body)) },
  ]);
}

const charges = async (service: Awaited<ReturnType<typeof payment>>['service'], orderId: string) =>
  (await service.store.ledger()).filter((e) => e.orderId === orderId);

describe('plain JSON interop is an opt-in', () => {
  // Registered for this suite only: other suites of the PostgreSQL run register their own.
  let unregister = (): void => undefined;
  before(() => {
    unregister = registerMessagingMetrics({
      published: () => undefined,
      processed: () => undefined,
      failed: () => undefined,
      retried: () => undefined,
      deadLettered: (labels, reason) => counted.push({ ...labels, kind: 'dead-lettered', reason }),
      skipped: (labels, reason) => counted.push({ ...labels, kind: 'skipped', reason }),
      handlerDuration: () => undefined,
    });
  });
  after(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    unregister();
  });

  it('dead-letters a plain record by default, with a reason naming the opt-in, and charges nothing', async () => {
    const { transport, service } = await payment(undefined);
    assert.equal(service.acceptPlainJson, false);
    await publishPlain(transport, 'plain-refused');
    let letters: Awaited<ReturnType<NonNullable<Transport['deadLetters']>['list']>> = [];
    await waitFor(
      async () => {
        letters = await transport.deadLetters!.list({ group: SERVICES.payment.group });
        return letters.length > 0;
      },
      DEADLINE_MS,
      'the plain record in the dead-letter queue',
    );
    assert.equal(letters.length, 1);
    assert.equal(letters[0]!.failure.reason, 'decode');
    assert.equal(letters[0]!.failure.error.code, 'HERALD_DECODE');
    assert.match(letters[0]!.failure.error.message, /not a CloudEvent.*HERALD_ACCEPT_PLAIN_JSON=1/);
    // The router counts a dead letter once the queue holds it.
    await waitFor(
      () =>
        counted.some(
          (c) => c.kind === 'dead-lettered' && c.reason === 'decode' && c.group === SERVICES.payment.group,
        ),
      DEADLINE_MS,
      'the dead letter counted',
    );
    assert.deepEqual(await charges(service, 'plain-refused'), []);
    assert.equal(await service.store.get('plain-refused'), undefined);
  });

  it('charges a plain OrderPlaced when opted in', async () => {
    const { transport, service } = await payment(true);
    await publishPlain(transport, 'plain-accepted');
    await waitFor(
      async () => (await charges(service, 'plain-accepted')).length > 0,
      DEADLINE_MS,
      'the charge',
    );
    assert.deepEqual(
      (await charges(service, 'plain-accepted')).map((e) => [e.kind, e.amountCents]),
      [['charge', 10_000]],
    );
    assert.deepEqual(await transport.deadLetters!.list({ group: SERVICES.payment.group }), []);
  });

  for (const acceptPlainJson of [false, true]) {
    it(`refuses an OrderPlaced CloudEvent from another source (plain JSON ${acceptPlainJson ? 'on' : 'off'})`, async () => {
      const { transport, service } = await payment(acceptPlainJson);
      const order = (orderId: string) => ({
        orderId,
        userId: 'ada',
        items: [{ sku: 'KB-101', quantity: 1, unitPriceCents: 8900 }],
        amountCents: 8900,
      });
      const before = counted.filter((c) => c.reason === 'untrusted-source').length;
      await publisherAs(transport, '/mallory').publish(OrderPlaced, order('forged-placed'));
      await waitFor(
        () => counted.filter((c) => c.reason === 'untrusted-source').length > before,
        DEADLINE_MS,
        'the refusal',
      );
      assert.deepEqual(await charges(service, 'forged-placed'), []);
      assert.equal(await service.store.get('forged-placed'), undefined);
      // The order service's own orders are still charged.
      await publisherAs(transport, SERVICES.order.source).publish(OrderPlaced, order('genuine'));
      await waitFor(async () => (await charges(service, 'genuine')).length > 0, DEADLINE_MS, 'the charge');
    });
  }

  it('reads HERALD_ACCEPT_PLAIN_JSON strictly', () => {
    assert.equal(acceptPlainJsonFrom({}), false);
    for (const off of ['', '0', 'false'])
      assert.equal(acceptPlainJsonFrom({ HERALD_ACCEPT_PLAIN_JSON: off }), false);
    for (const on of ['1', 'true']) assert.equal(acceptPlainJsonFrom({ HERALD_ACCEPT_PLAIN_JSON: on }), true);
    for (const bad of ['yes', 'TRUE ', '2']) {
      assert.throws(
        () => acceptPlainJsonFrom({ HERALD_ACCEPT_PLAIN_JSON: bad }),
        { code: 'HERALD_CONFIG', message: /HERALD_ACCEPT_PLAIN_JSON/ },
        bad,
      );
    }
  });
});
