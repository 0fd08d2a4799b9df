import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createPublisher } from '../../publisher.ts';
import { uniqueName, waitFor } from '../wait.ts';
import { Ping, type ContractContext, type Received } from './context.ts';

/** The CloudEvent survives the round trip: envelope, extensions, data and key. */
export function envelopeCases(c: ContractContext): void {
  const { transport, subscribe, acking, timeoutMs } = c;
  it('round-trips the envelope, extensions and data', async () => {
    const t = await transport();
    const topic = uniqueName('envelope');
    const received: Received[] = [];
    await subscribe(t, uniqueName('g'), topic, acking(received)).ready;
    const publisher = createPublisher({ transport: t, source: '/herald/contract' });
    const sent = await publisher.publish(
      Ping(topic),
      { key: 'k1', seq: 7, text: 'héllo ✓' },
      {
        subject: 'subject-1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'vendor=value',
        correlationId: 'corr-1',
        causationId: 'cause-1',
        extensions: { tenant: 'acme' },
      },
    );
    await waitFor(() => received.length === 1, timeoutMs, 'the event');
    const got = received[0]!;
    assert.deepEqual(got.event, sent);
    assert.equal(got.delivery.record.key, 'k1');
    assert.equal(got.delivery.record.topic, topic);
    assert.equal(got.delivery.attempt, 1);
  });
}
