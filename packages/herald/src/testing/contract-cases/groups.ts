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
    // At least once: a group may see a record twice (an SQS visibility timeout under load), never miss one.
    const ids = (got: Received[]) => new Set(got.map((r) => r.event.id));
    await waitFor(() => ids(a).size >= 15 && ids(b).size >= 15, timeoutMs, 'both groups');
    assert.equal(ids(a).size, 15, 'group a got every event, and only those');
    assert.deepEqual([...ids(b)].sort(), [...ids(a)].sort(), 'both groups got the same events');
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
