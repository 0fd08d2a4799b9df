import assert from 'node:assert/strict';
import type { Transport } from '../../transport.ts';
import { delay, waitFor } from '../wait.ts';
import type { ContractContext, Received } from './context.ts';

/**
 * Asserts that what `group` acked on `topic` stays acked: a new member of the group (on a new transport) gets
 * only a `marker` ping published on `publishOn` after it joined, waiting a timeout and a rebalance for it, then
 * 100 ms for anything redelivered behind it. Call it once the group's members are closed.
 */
export async function assertAckedStaysAcked(
  c: ContractContext,
  publishOn: Transport,
  group: string,
  topic: string,
  message?: string,
): Promise<void> {
  const later: Received[] = [];
  await c.subscribe(await c.transport(), group, topic, c.acking(later)).ready;
  await c.publishPings(publishOn, topic, ['marker'], 1);
  await waitFor(() => later.length >= 1, c.timeoutMs + c.rebalanceMs, 'the marker');
  await delay(100);
  assert.deepEqual(
    later.map((r) => (r.event.data as { key: string }).key),
    ['marker'],
    message,
  );
}
