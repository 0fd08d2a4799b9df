import assert from 'node:assert/strict';
import { it } from 'node:test';
import { delay, uniqueName, waitFor } from '../wait.ts';
import { type ContractContext } from './context.ts';

/** Order per key while keys run in parallel (`orderedPerKey`). */
export function orderingCases(c: ContractContext): void {
  const { transportWith, subscribe, publishPings, timeoutMs } = c;
  it('keeps order per key while running keys in parallel', { skip: false }, async (ctx) => {
    const t = await transportWith(ctx, 'orderedPerKey');
    if (t === undefined) return;
    const topic = uniqueName('order');
    const seen = new Map<string, number[]>();
    let running = 0;
    let maxRunning = 0;
    await subscribe(
      t,
      uniqueName('g'),
      topic,
      async ({ event, delivery }) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await delay(Math.random() * 3);
        const data = event.data as { key: string; seq: number };
        seen.set(data.key, [...(seen.get(data.key) ?? []), data.seq]);
        running--;
        await delivery.ack();
      },
      8,
    ).ready;
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    await publishPings(t, topic, keys, 30);
    await waitFor(() => keys.every((k) => (seen.get(k)?.length ?? 0) >= 30), timeoutMs, 'all keys');
    for (const key of keys)
      assert.deepEqual(
        seen.get(key),
        Array.from({ length: 30 }, (_, i) => i),
        `order of ${key}`,
      );
    assert.ok(maxRunning > 1, `keys ran in parallel (max ${maxRunning} at once)`);
  });
}
