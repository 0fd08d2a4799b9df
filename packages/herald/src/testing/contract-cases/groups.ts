import assert from 'node:assert/strict';
import { it } from 'node:test';
import { delay, uniqueName, waitFor } from '../wait.ts';
import { type ContractContext, type Received } from './context.ts';

/** Consumer groups: fan-out to every group, competing consumers within one. */
export function groupCases(c: ContractContext): void {
  const { transport, subscribe, acking, publishPings, timeoutMs, rebalanceMs } = c;
  it('fans out every event to every group', async () => {
    const t = await transport();
    const topic = uniqueName('fanout');
    const a: Received[] = [];
    const b: Received[] = [];
    await Promise.all([
      subscribe(t, uniqueName('ga'), topic, acking(a)).ready,
      subscribe(t, uniqueName('gb'), topic, acking(b)).ready,
    ]);
    await publishPings(t, topic, ['x', 'y', 'z'], 5);
    await waitFor(() => a.length >= 15 && b.length >= 15, timeoutMs, 'both groups');
    for (const got of [a, b]) assert.equal(new Set(got.map((r) => r.event.id)).size, 15);
  });

  it("shares a group's events among competing consumers", async () => {
    const group = uniqueName('competing');
    const topic = uniqueName('competing');
    const first: Received[] = [];
    const second: Received[] = [];
    await subscribe(await transport(), group, topic, acking(first)).ready;
    await subscribe(await transport(), group, topic, acking(second)).ready;
    await delay(rebalanceMs);
    const keys = Array.from({ length: 16 }, (_, i) => `key-${i}`);
    await publishPings(await transport(), topic, keys, 4);
    await waitFor(
      () => new Set([...first, ...second].map((r) => r.event.id)).size === 64,
      timeoutMs,
      'all events',
    );
    assert.ok(
      first.length > 0 && second.length > 0,
      `both members got events (${first.length}, ${second.length})`,
    );
    assert.equal(first.length + second.length, 64, 'each event went to one member');
  });
}
