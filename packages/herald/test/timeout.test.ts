import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPublisher, createRouter, defineEvent, memory, timeout } from '@herald/core';
import { testSchema, uniqueName, waitFor } from '@herald/core/testing';

describe('timeout middleware', () => {
  it('fails a handling that runs too long with HERALD_TIMEOUT, so it is retried', async () => {
    const transport = memory();
    const Pinged = defineEvent({ type: 'Pinged', topic: uniqueName('t'), schema: testSchema });
    let calls = 0;
    const group = uniqueName('g');
    const router = createRouter({
      transport,
      group,
      source: '/test',
      retry: { attempts: 2, backoff: { initialMs: 1, maxMs: 1 } },
      redelivery: false,
      middleware: [timeout({ ms: 20 })],
    }).on(Pinged, () => {
      calls++;
      return new Promise<void>((resolve) => setTimeout(resolve, 200));
    });
    await router.start();
    await createPublisher({ transport, source: '/test' }).publish(Pinged, { key: 'k', seq: 1 });
    await waitFor(async () => (await transport.deadLetters!.list({ group })).length === 1);
    const [dead] = await transport.deadLetters!.list({ group });
    assert.equal(dead!.failure.error.code, 'HERALD_TIMEOUT');
    assert.equal(calls, 2);
    await router.close();
    await transport.close();
  });

  it('rejects a non-positive timeout', () => {
    assert.throws(() => timeout({ ms: 0 }), /"timeout\.ms"/);
  });
});
