import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPublisher, createRouter, defineEvent, idempotency, memory, memoryInbox } from '@herald/core';
import { testSchema, uniqueName, waitFor } from '@herald/core/testing';

describe('idempotency middleware', () => {
  it('handles a redelivered event id once', async () => {
    const transport = memory();
    const topic = uniqueName('t');
    const Pinged = defineEvent({ type: 'Pinged', topic, schema: testSchema });
    const inbox = memoryInbox();
    let calls = 0;
    const router = createRouter({
      transport,
      group: 'g',
      source: '/test',
      middleware: [idempotency({ inbox })],
    }).on(Pinged, () => {
      calls++;
    });
    await router.start();
    const publisher = createPublisher({ transport, source: '/test' });
    const event = await publisher.publish(Pinged, { key: 'k', seq: 1 });
    await publisher.publish(Pinged, { key: 'k', seq: 1 }, { id: event.id });
    await publisher.publish(Pinged, { key: 'k', seq: 2 });
    await waitFor(() => inbox.size === 2 && calls >= 2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(calls, 2);
    await router.close();
    await transport.close();
  });
});
