import type { Transport } from '../../transport.ts';
import { waitFor } from '../wait.ts';
import type { ContractContext, Received } from './context.ts';

/**
 * Subscribes `group` to `topic` on `t`, publishes `perKey` pings for each of `keys` once it is ready, waits (a
 * timeout at most, as `what`) until all of them are acked into `into`, then closes that subscription: the
 * group has consumed one batch and has no member left.
 */
export async function consumeBatch(
  c: ContractContext,
  t: Transport,
  group: string,
  topic: string,
  batch: {
    readonly into: Received[];
    readonly keys: readonly string[];
    readonly perKey: number;
    readonly what: string;
  },
): Promise<void> {
  const subscription = c.subscribe(t, group, topic, c.acking(batch.into));
  await subscription.ready;
  await c.publishPings(t, topic, batch.keys, batch.perKey);
  const count = batch.keys.length * batch.perKey;
  await waitFor(() => batch.into.length === count, c.timeoutMs, batch.what);
  await subscription.close();
}
