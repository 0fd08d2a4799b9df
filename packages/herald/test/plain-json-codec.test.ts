import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRouter, defineEvent, memory, plainJsonCodec } from '@herald/core';
import { testSchema, uniqueName, waitFor } from '@herald/core/testing';

describe('plain JSON codec', () => {
  it('reads {"event", "data"} bodies from clients that know nothing of CloudEvents', async () => {
    const transport = memory();
    const topic = uniqueName('plain');
    const group = uniqueName('g');
    const Pinged = defineEvent({ type: 'Pinged', topic, schema: testSchema });
    const seen: { id: string; seq: number; source: string }[] = [];
    const router = createRouter({ transport, group, source: '/test', codec: plainJsonCodec() }).on(
      Pinged,
      (event) => {
        seen.push({ id: event.id, seq: event.data.seq, source: event.source });
      },
    );
    await router.start();
    const body = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
    await transport.publish([
      { topic, key: 'k', attributes: {}, data: body({ event: 'Pinged', data: { key: 'k', seq: 1 } }) },
      { topic, key: 'k', attributes: {}, data: body({ event: 'Pinged', data: { key: 'k', seq: 1 } }) },
      { topic, key: 'k', attributes: {}, data: body({ nothing: true }) },
    ]);
    await waitFor(async () => (await transport.deadLetters!.list({ group })).length === 1);
    await waitFor(() => seen.length === 2);
    assert.equal(seen[0]!.id, seen[1]!.id, 'a redelivered copy keeps its derived id');
    assert.match(seen[0]!.id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(seen[0]!.source, `/plain/${topic}`);
    const [dead] = await transport.deadLetters!.list({ group });
    assert.equal(dead!.failure.reason, 'decode');
    assert.match(dead!.failure.error.message, /"event"/);
    await router.close();
    await transport.close();
  });
});
