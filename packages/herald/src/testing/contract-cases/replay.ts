import assert from 'node:assert/strict';
import { it } from 'node:test';
import { uniqueName, waitFor } from '../wait.ts';
import { type ContractContext, type Received } from './context.ts';

/** Replay of a group from an offset (`replay`). */
export function replayCases(c: ContractContext): void {
  const { transport, subscribe, acking, publishPings, timeoutMs, rebalanceMs } = c;
  it('replays a group from the earliest offset', async (ctx) => {
    const t = await transport();
    if (!t.capabilities.replay || t.seek === undefined) {
      ctx.skip('replay not declared');
      return;
    }
    const group = uniqueName('seek');
    const topic = uniqueName('seek');
    const seen: Received[] = [];
    const subscription = subscribe(t, group, topic, acking(seen));
    await subscription.ready;
    await publishPings(t, topic, ['a', 'b'], 3);
    await waitFor(() => seen.length === 6, timeoutMs, 'the first pass');
    await subscription.close();
    await t.seek(group, topic, 'earliest');
    await subscribe(t, group, topic, acking(seen)).ready;
    await waitFor(() => seen.length === 12, timeoutMs + rebalanceMs, 'the replay');
    assert.deepEqual(
      new Set(seen.slice(6).map((r) => r.event.id)),
      new Set(seen.slice(0, 6).map((r) => r.event.id)),
    );
  });
}
