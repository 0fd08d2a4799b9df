import assert from 'node:assert/strict';
import { it } from 'node:test';
import { uniqueName, waitFor } from '../wait.ts';
import { consumeBatch } from './consume-batch.ts';
import type { ContractContext } from './context.ts';

/** Replay of a group from an offset (`replay`). */
export function replayCases(c: ContractContext): void {
  const { transport, subscribe, acking, timeoutMs, rebalanceMs } = c;
  it('replays a group from the earliest offset', async (ctx) => {
    const t = await transport();
    if (!t.capabilities.replay || t.seek === undefined) {
      ctx.skip('replay not declared');
      return;
    }
    const group = uniqueName('seek');
    const topic = uniqueName('seek');
    const seen = await consumeBatch(c, t, group, topic, {
      keys: ['a', 'b'],
      perKey: 3,
      what: 'the first pass',
    });
    await t.seek(group, topic, 'earliest');
    await subscribe(t, group, topic, acking(seen)).ready;
    await waitFor(() => seen.length === 12, timeoutMs + rebalanceMs, 'the replay');
    assert.deepEqual(
      new Set(seen.slice(6).map((r) => r.event.id)),
      new Set(seen.slice(0, 6).map((r) => r.event.id)),
    );
  });
}
