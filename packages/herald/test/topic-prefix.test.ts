import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memory, withTopicPrefix, type Delivery } from '../src/index.ts';
import { waitFor } from '../src/testing/index.ts';

describe('withTopicPrefix', () => {
  it('hands over deliveries under the unprefixed topic, with their lease signal', async () => {
    const inner = memory();
    const transport = withTopicPrefix(inner, 'staging.');
    const seen: Delivery[] = [];
    const subscription = transport.subscribe(
      { group: 'g', topics: ['orders'], concurrency: 1 },
      async (d) => {
        seen.push(d);
        await d.ack();
      },
    );
    try {
      await subscription.ready;
      const [receipt] = await transport.publish([
        { topic: 'orders', key: 'k', attributes: { id: '1' }, data: new Uint8Array() },
      ]);
      assert.equal(receipt!.topic, 'orders');
      await waitFor(() => seen.length === 1, 5000, 'the delivery');
      assert.equal(seen[0]!.record.topic, 'orders');
      assert.ok(seen[0]!.signal instanceof AbortSignal, 'the lease signal of the inner delivery');
    } finally {
      await subscription.close();
      await transport.close();
    }
  });
});
