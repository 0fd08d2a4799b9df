import assert from 'node:assert/strict';
import { it } from 'node:test';
import { delay, uniqueName, waitFor } from '../wait.ts';
import { type ContractContext } from './context.ts';

/** Graceful close of a subscription and of the transport. */
export function closeCases(c: ContractContext): void {
  const { transport, subscribe, publishPings, timeoutMs } = c;
  it('closes gracefully: waits for in-flight work, then refuses to publish', async () => {
    const t = await transport();
    const topic = uniqueName('close');
    let finished = false;
    let started = false;
    const subscription = subscribe(t, uniqueName('g'), topic, async ({ delivery }) => {
      started = true;
      await delay(150);
      finished = true;
      await delivery.ack();
    });
    await subscription.ready;
    await publishPings(t, topic, ['k'], 1);
    await waitFor(() => started, timeoutMs, 'the delivery');
    await subscription.close({ timeoutMs: 5000 });
    assert.ok(finished, 'close waited for the handler');
    await subscription.close();
    await t.close();
    await t.close();
    await assert.rejects(() => publishPings(t, topic, ['k'], 1), { code: 'HERALD_CLOSED' });
  });
}
