import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import {
  createPublisher,
  createRouter,
  defineEvent,
  memory,
  plainJsonCodec,
  type CloudEvent,
  type EventDefinition,
  type Transport,
} from '@herald/core';
import { uniqueName, waitFor } from '@herald/core/testing';
import { assertRefusedOption } from './refused-option.ts';

// Issue 12 item 1: versioned contracts. v1 of OrderPlaced had one `amount` in cents; v2 splits it into a money
// object. Old events sit in the log and in the dead-letter queue while v2 is deployed.

const V1 = z.object({ orderId: z.string(), amountCents: z.number().int() });
const V2 = z.object({
  orderId: z.string(),
  total: z.object({ cents: z.number().int(), currency: z.string().length(3) }),
});
type V2Data = z.infer<typeof V2>;

function contracts(topic: string) {
  const v1 = defineEvent({ type: 'OrderPlaced', topic, schema: V1, key: (d) => d.orderId });
  const v2 = defineEvent({
    type: 'OrderPlaced',
    topic,
    schema: V2,
    key: (d) => d.orderId,
    version: 2,
    upcasters: {
      1: (data) => {
        const old = data as { orderId: string; amountCents: number };
        if (typeof old.amountCents !== 'number') throw new Error('amountCents is missing');
        return { orderId: old.orderId, total: { cents: old.amountCents, currency: 'EUR' } };
      },
    },
  });
  const v3 = defineEvent({ type: 'OrderPlaced', topic, schema: V2, key: (d) => d.orderId, version: 3 });
  return { v1, v2, v3 };
}

/** A started consumer of `definition` whose handler always fails: its events go to the dead-letter queue. */
async function failing(transport: Transport, group: string, definition: EventDefinition) {
  const router = createRouter({ transport, group, source: '/old', retry: false, redelivery: false });
  router.on(definition, () => {
    throw new Error('v1 handler is down');
  });
  await router.start();
  return router;
}

describe('versioned contracts', () => {
  it('publishes the version in dataschema and in the dataversion attribute', async () => {
    const transport = memory();
    const topic = uniqueName('versions');
    const { v1, v2 } = contracts(topic);
    const publisher = createPublisher({ transport, source: '/orders' });
    const old = await publisher.publish(v1, { orderId: 'o1', amountCents: 500 });
    const current = await publisher.publish(v2, {
      orderId: 'o2',
      total: { cents: 700, currency: 'USD' },
    });
    assert.equal(old.dataschema, 'urn:herald:schema:OrderPlaced:v1');
    assert.equal(old.extensions?.dataversion, '1');
    assert.equal(current.dataschema, 'urn:herald:schema:OrderPlaced:v2');
    assert.equal(current.extensions?.dataversion, '2');
    const custom = defineEvent({
      type: 'OrderPlaced',
      topic,
      schema: V2,
      version: 2,
      upcasters: { 1: (d) => d },
      dataschema: (version) => `https://schemas.example.com/order-placed/${version}.json`,
    });
    const published = await publisher.publish(custom, {
      orderId: 'o3',
      total: { cents: 1, currency: 'EUR' },
    });
    assert.equal(published.dataschema, 'https://schemas.example.com/order-placed/2.json');
    assert.equal(published.extensions?.dataversion, '2');
    await transport.close();
  });

  it('hands every old and new event to the v2 handler as v2, including ones replayed from the dead-letter queue', async () => {
    const transport = memory();
    const topic = uniqueName('versions');
    const group = uniqueName('billing');
    const { v1, v2 } = contracts(topic);
    const publisher = createPublisher({ transport, source: '/orders' });

    // Before the deploy: v1 events, and a v1 consumer whose handler fails on two of them (dead-lettered as v1).
    const oldRouter = await failing(transport, group, v1);
    await publisher.publish(v1, { orderId: 'old-1', amountCents: 100 });
    await publisher.publish(v1, { orderId: 'old-2', amountCents: 200 });
    const dlq = transport.deadLetters!;
    await waitFor(async () => (await dlq.list({ group })).length === 2, 5000, 'two v1 dead letters');
    // A v2 producer deployed first: the v1 consumer cannot read v2 and dead-letters it with the reason.
    await publisher.publish(v2, { orderId: 'new-1', total: { cents: 300, currency: 'USD' } });
    await waitFor(async () => (await dlq.list({ group })).length === 3, 5000, 'the v2 dead letter');
    const reasons = (await dlq.list({ group })).map((d) => [
      d.failure.reason,
      d.record.attributes.dataversion,
    ]);
    assert.deepEqual(reasons, [
      ['max-attempts', '1'],
      ['max-attempts', '1'],
      ['unknown-version', '2'],
    ]);
    await oldRouter.close();

    // The v2 consumer: reads what is in the log from here on, and what the operator replays.
    const seen: { id: string; data: V2Data; dataschema: string | undefined }[] = [];
    const router = createRouter({ transport, group, source: '/billing' });
    router.on(v2, (event: CloudEvent<V2Data>) => {
      seen.push({ id: event.data.orderId, data: event.data, dataschema: event.dataschema });
    });
    await router.start();
    await publisher.publish(v1, { orderId: 'old-3', amountCents: 400 });
    await publisher.publish(v2, { orderId: 'new-2', total: { cents: 500, currency: 'GBP' } });
    for (const letter of await dlq.list({ group })) await dlq.replay(letter.id);
    await waitFor(() => seen.length === 5, 5000, 'five events handled as v2');
    await router.close();
    await transport.close();

    const byId = new Map(seen.map((s) => [s.id, s]));
    assert.deepEqual(byId.get('old-1')?.data, { orderId: 'old-1', total: { cents: 100, currency: 'EUR' } });
    assert.deepEqual(byId.get('old-2')?.data, { orderId: 'old-2', total: { cents: 200, currency: 'EUR' } });
    assert.deepEqual(byId.get('old-3')?.data, { orderId: 'old-3', total: { cents: 400, currency: 'EUR' } });
    assert.deepEqual(byId.get('new-1')?.data, { orderId: 'new-1', total: { cents: 300, currency: 'USD' } });
    assert.deepEqual(byId.get('new-2')?.data, { orderId: 'new-2', total: { cents: 500, currency: 'GBP' } });
    // The envelope says what was published; the data is the current version.
    assert.equal(byId.get('old-1')?.dataschema, 'urn:herald:schema:OrderPlaced:v1');
    assert.equal(byId.get('new-1')?.dataschema, 'urn:herald:schema:OrderPlaced:v2');
  });

  it('upcasts again from the delivered data on every try', async () => {
    const transport = memory();
    const topic = uniqueName('versions');
    const { v1, v2 } = contracts(topic);
    const tries: unknown[] = [];
    const router = createRouter({
      transport,
      group: uniqueName('g'),
      source: '/billing',
      retry: { attempts: 3, backoff: { initialMs: 1, maxMs: 2 } },
    });
    router.on(v2, (event) => {
      tries.push(event.data);
      if (tries.length < 3) throw new Error('transient');
    });
    await router.start();
    await createPublisher({ transport, source: '/orders' }).publish(v1, { orderId: 'o', amountCents: 9 });
    await waitFor(() => tries.length === 3, 5000, 'three tries');
    await router.close();
    await transport.close();
    const expected = { orderId: 'o', total: { cents: 9, currency: 'EUR' } };
    assert.deepEqual(tries, [expected, expected, expected]);
  });

  it('dead-letters a newer version, a version with no upcaster path, a malformed one and a failed upcast, naming why', async () => {
    const transport = memory();
    const topic = uniqueName('versions');
    const group = uniqueName('g');
    const { v2, v3 } = contracts(topic);
    const handled: string[] = [];
    const router = createRouter({ transport, group, source: '/billing' });
    router.on(v2, (event) => void handled.push(event.data.orderId));
    await router.start();
    const publisher = createPublisher({ transport, source: '/orders' });
    await publisher.publish(v3, { orderId: 'from-the-future', total: { cents: 1, currency: 'EUR' } });
    // Version 0 does not exist; "two" is not a version; a v1 body the upcaster cannot read.
    const raw = (id: string, dataversion: string, data: unknown) =>
      transport.publish([
        {
          topic,
          key: id,
          attributes: {
            specversion: '1.0',
            id,
            source: '/raw',
            type: 'OrderPlaced',
            datacontenttype: 'application/json',
            dataversion,
          },
          data: new TextEncoder().encode(JSON.stringify(data)),
        },
      ]);
    await raw('malformed', 'two', { orderId: 'malformed' });
    await raw('broken-v1', '1', { orderId: 'broken-v1' });
    await publisher.publish(v2, { orderId: 'fine', total: { cents: 2, currency: 'EUR' } });
    const dlq = transport.deadLetters!;
    await waitFor(async () => (await dlq.list({ group })).length === 3, 5000, 'three dead letters');
    await waitFor(() => handled.length === 1, 5000, 'the current event');
    await router.close();
    await transport.close();
    const letters = new Map(
      (await dlq.list({ group })).map(
        (d) => [d.record.key, [d.failure.reason, d.failure.error.message]] as const,
      ),
    );
    assert.deepEqual([...letters].map(([key, [reason]]) => [key, reason]).sort(), [
      ['broken-v1', 'upcast'],
      ['from-the-future', 'unknown-version'],
      ['malformed', 'unknown-version'],
    ]);
    assert.match(letters.get('from-the-future')![1], /version 3 is newer than this consumer's version 2/);
    assert.match(letters.get('malformed')![1], /dataversion "two" is not a version/);
    assert.match(letters.get('broken-v1')![1], /upcaster from version 1 to 2 threw: amountCents is missing/);
    assert.deepEqual(handled, ['fine']);
  });

  it('dead-letters a version with no upcaster to the current one', async () => {
    const transport = memory();
    const topic = uniqueName('versions');
    const group = uniqueName('g');
    const { v1 } = contracts(topic);
    // v3 reads v2 but was given no upcaster from v1.
    const gap = defineEvent({
      type: 'OrderPlaced',
      topic,
      schema: V2,
      version: 3,
      upcasters: { 2: (d) => d },
    });
    const router = createRouter({ transport, group, source: '/billing' });
    router.on(gap, () => undefined);
    await router.start();
    await createPublisher({ transport, source: '/orders' }).publish(v1, { orderId: 'o', amountCents: 1 });
    const dlq = transport.deadLetters!;
    await waitFor(async () => (await dlq.list({ group })).length === 1, 5000, 'the dead letter');
    await router.close();
    await transport.close();
    const [letter] = await dlq.list({ group });
    assert.equal(letter!.failure.reason, 'unknown-version');
    assert.match(letter!.failure.error.message, /no upcaster from version 1 to 2/);
  });

  it('reads the version of a plain JSON body from its "version" field (absent: version 1)', async () => {
    const transport = memory();
    const topic = uniqueName('versions');
    const group = uniqueName('g');
    const { v2 } = contracts(topic);
    const seen: V2Data[] = [];
    const router = createRouter({ transport, group, source: '/billing', codec: plainJsonCodec() });
    router.on(v2, (event) => void seen.push(event.data));
    await router.start();
    const body = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    await transport.publish([
      {
        topic,
        key: 'a',
        attributes: {},
        data: body({ event: 'OrderPlaced', data: { orderId: 'a', amountCents: 1 } }),
      },
      {
        topic,
        key: 'b',
        attributes: {},
        data: body({
          event: 'OrderPlaced',
          version: 2,
          data: { orderId: 'b', total: { cents: 2, currency: 'USD' } },
        }),
      },
    ]);
    await waitFor(() => seen.length === 2, 5000, 'both plain events');
    await router.close();
    await transport.close();
    assert.deepEqual(
      seen.sort((x, y) => x.orderId.localeCompare(y.orderId)),
      [
        { orderId: 'a', total: { cents: 1, currency: 'EUR' } },
        { orderId: 'b', total: { cents: 2, currency: 'USD' } },
      ],
    );
  });

  it('refuses a bad version or upcaster at definition time, naming the option', () => {
    const topic = uniqueName('versions');
    const define = (extra: Record<string, unknown>) => () =>
      defineEvent({ type: 'OrderPlaced', topic, schema: V2, ...extra });
    const refused = assertRefusedOption;
    refused(define({ version: 0 }), 'version');
    refused(define({ version: 1.5 }), 'version');
    refused(define({ version: 2, upcasters: { 2: (d: unknown) => d } }), 'upcasters');
    refused(define({ version: 2, upcasters: { 0: (d: unknown) => d } }), 'upcasters');
    refused(define({ version: 2, upcasters: { 1: 'not a function' } }), 'upcasters.1');
  });
});
