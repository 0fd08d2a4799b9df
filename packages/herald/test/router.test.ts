import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createPublisher,
  createRouter,
  defineEvent,
  memory,
  PermanentError,
  type CloudEvent,
} from '@herald/core';
import { testSchema, uniqueName, waitFor } from '@herald/core/testing';

/** A memory transport, a fresh topic and group, and `Pinged`: the test schema's events on that topic. */
function setup() {
  const topic = uniqueName('t');
  const Pinged = defineEvent({ type: 'Pinged', topic, schema: testSchema });
  return { transport: memory(), topic, group: uniqueName('g'), Pinged };
}

const fast = {
  retry: { attempts: 3, backoff: { initialMs: 1, maxMs: 2 } },
  redelivery: { maxDeliveries: 3, backoff: { initialMs: 5, maxMs: 5 } },
};

describe('router', () => {
  it('hands validated, typed events to their handler and acks them', async () => {
    const { transport, topic, group } = setup();
    const Pinged = defineEvent({ type: 'Pinged', topic, schema: testSchema, key: (d) => d.key });
    const Other = defineEvent({ type: 'Other', topic, schema: testSchema });
    const seen: number[] = [];
    const router = createRouter({ transport, group, source: '/test' }).on(Pinged, (event) => {
      seen.push(event.data.seq);
    });
    await router.start();
    const publisher = createPublisher({ transport, source: '/test' });
    await publisher.publish(Other, { key: 'k', seq: 99 });
    await publisher.publish(Pinged, { key: 'k', seq: 1 });
    await publisher.publish(Pinged, { key: 'k', seq: 2 });
    await waitFor(() => seen.length === 2);
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(await transport.deadLetters!.list({ group }), []);
    await router.close();
    await transport.close();
  });

  it('retries at once, then succeeds without a redelivery', async () => {
    const { transport, group, Pinged } = setup();
    const attempts: number[] = [];
    let calls = 0;
    const router = createRouter({ transport, group, source: '/test', ...fast }).on(Pinged, (_event, ctx) => {
      calls++;
      attempts.push(ctx.attempt);
      if (calls < 3) throw new Error('flaky');
    });
    await router.start();
    await createPublisher({ transport, source: '/test' }).publish(Pinged, { key: 'k', seq: 1 });
    await waitFor(() => calls === 3);
    assert.deepEqual(attempts, [1, 1, 1]);
    await router.close();
    await transport.close();
  });

  it('redelivers with backoff after the immediate retries, then succeeds', async () => {
    const { transport, group, Pinged } = setup();
    const attempts: number[] = [];
    const router = createRouter({
      transport,
      group,
      source: '/test',
      retry: false,
      redelivery: fast.redelivery,
    }).on(Pinged, (_event, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new Error('not yet');
    });
    await router.start();
    await createPublisher({ transport, source: '/test' }).publish(Pinged, { key: 'k', seq: 1 });
    await waitFor(() => attempts.length === 3);
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.deepEqual(await transport.deadLetters!.list({ group }), []);
    await router.close();
    await transport.close();
  });

  it('dead-letters a permanent error at once', async () => {
    const { transport, group, Pinged } = setup();
    let calls = 0;
    const router = createRouter({ transport, group, source: '/test', ...fast }).on(Pinged, () => {
      calls++;
      throw new PermanentError('poison');
    });
    await router.start();
    await createPublisher({ transport, source: '/test' }).publish(Pinged, { key: 'k', seq: 1 });
    await waitFor(async () => (await transport.deadLetters!.list({ group })).length === 1);
    const [dead] = await transport.deadLetters!.list({ group });
    assert.equal(dead!.failure.reason, 'permanent-error');
    assert.equal(dead!.failure.error.message, 'poison');
    assert.equal(calls, 1);
    await router.close();
    await transport.close();
  });

  it('sets causation and correlation on events published while handling', async () => {
    const { transport, topic, group } = setup();
    const Asked = defineEvent({ type: 'Asked', topic, schema: testSchema });
    const Answered = defineEvent({ type: 'Answered', topic: `${topic}-answers`, schema: testSchema });
    const plain = createPublisher({ transport, source: '/test' });
    const published: CloudEvent[] = [];
    const router = createRouter({ transport, group, source: '/test' }).on(Asked, async (event, ctx) => {
      published.push(await ctx.publish(Answered, { key: 'k', seq: event.data.seq }));
      published.push(await plain.publish(Answered, { key: 'k', seq: event.data.seq + 1 }));
    });
    await router.start();
    const asked = await plain.publish(Asked, { key: 'k', seq: 1 }, { correlationId: 'order-42' });
    await waitFor(() => published.length === 2);
    for (const event of published) {
      assert.equal(event.causationid, asked.id);
      assert.equal(event.correlationid, 'order-42');
    }
    const root = await plain.publish(Asked, { key: 'k', seq: 5 });
    assert.equal(root.correlationid, root.id, 'a new flow is correlated by its first event');
    assert.equal(root.causationid, undefined);
    await router.close();
    await transport.close();
  });

  it('refuses publishing invalid data, naming the field', async () => {
    const { transport, topic } = setup();
    const Pinged = defineEvent({ type: 'Pinged', topic, schema: testSchema });
    const publisher = createPublisher({ transport, source: '/test' });
    await assert.rejects(
      () => publisher.publish(Pinged, { key: 'k', seq: 'x' as unknown as number }),
      (e: Error & { code?: string }) => e.code === 'HERALD_VALIDATION' && /seq/.test(e.message),
    );
    await transport.close();
  });

  it('fails at start-up on bad options, naming the option', async () => {
    const transport = memory();
    assert.throws(() => createRouter({ transport, group: 'bad group', source: '/x' }), /"group"/);
    assert.throws(() => createRouter({ transport, group: 'g', source: '' }), /"source"/);
    assert.throws(
      () => createRouter({ transport, group: 'g', source: '/x', concurrency: 0 }),
      /"concurrency"/,
    );
    assert.throws(
      () => createRouter({ transport, group: 'g', source: '/x', retry: { attempts: 0 } }),
      /"retry\.attempts"/,
    );
    await assert.rejects(() => createRouter({ transport, group: 'g', source: '/x' }).start(), /"handlers"/);
    assert.throws(() => defineEvent({ type: 'Bad type', topic: 't', schema: testSchema }), /"type"/);
    await transport.close();
  });

  it('describes its pipeline', () => {
    const { transport, topic, group, Pinged } = setup();
    const router = createRouter({ transport, group, source: '/test' }).on(Pinged, () => undefined);
    const description = router.describe();
    assert.deepEqual(description.topics, [topic]);
    assert.deepEqual(description.pipeline, [
      'dead-letter',
      'redelivery(maxDeliveries=5)',
      'retry(attempts=3)',
      'validation',
    ]);
  });
});
