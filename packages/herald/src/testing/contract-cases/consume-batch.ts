import type { Transport } from '../../transport.ts';
import { waitFor } from '../wait.ts';
import type { ContractContext, Received } from './context.ts';

/** One batch of pings for {@link consumeBatch}: `perKey` of each key, awaited as `what`. */
export interface Batch {
  readonly keys: readonly string[];
  readonly perKey: number;
  readonly what: string;
}

/**
 * Subscribes `group` to `topic` on `t`, publishes the batch once it is ready, waits (a timeout at most) until all
 * of it is acked, then closes that subscription: the group has consumed one batch and has no member left.
 * Resolves with what it received, in order.
 */
export async function consumeBatch(
  c: ContractContext,
  t: Transport,
  group: string,
  topic: string,
  { keys, perKey, what }: Batch,
): Promise<Received[]> {
  const received: Received[] = [];
  const subscription = c.subscribe(t, group, topic, c.acking(received));
  await subscription.ready;
  await c.publishPings(t, topic, keys, perKey);
  await waitFor(() => received.length === keys.length * perKey, c.timeoutMs, what);
  await subscription.close();
  return received;
}
