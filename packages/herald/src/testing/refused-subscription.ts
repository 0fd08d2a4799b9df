import assert from 'node:assert/strict';
import type { SubscribeOptions, Transport } from '../transport.ts';

/**
 * Asserts that `transport.subscribe` throws `HERALD_CONFIG` at once for each of `refused` (a bad group, topic
 * or concurrency), as a transport checks its subscriptions before any connection.
 */
export function assertSubscribeRefused(transport: Transport, ...refused: SubscribeOptions[]): void {
  for (const options of refused) {
    assert.throws(
      () => transport.subscribe(options, async () => {}),
      { code: 'HERALD_CONFIG' },
      `subscribe(${JSON.stringify(options)}) is refused`,
    );
  }
}
