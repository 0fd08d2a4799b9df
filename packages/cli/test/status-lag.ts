import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  createPublisher,
  createRouter,
  transportFromUrl,
  withTopicPrefix,
  type ConsumerLag,
} from '@herald/core';
import { run } from '../src/main.ts';
import { captureIo, waitFor } from './capture-io.ts';
import { Charged } from './fixtures/contracts.ts';

const contracts = join(import.meta.dirname, 'fixtures', 'contracts.ts');

/**
 * `herald status` reports a stopped group's lag on `broker` from the broker's bookkeeping: a group that handled
 * one event and was stopped before two more were published lags by 2, summed over the partitions.
 */
export function statusLag(broker: { name: string; url: string }): void {
  describe(`herald status lag on ${broker.name}`, () => {
    it('reports the lag of a stopped group per partition', async () => {
      const prefix = `clilag${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-`;
      const transport = withTopicPrefix(await transportFromUrl(broker.url), prefix);
      try {
        const handled: string[] = [];
        const router = createRouter({ transport, group: 'billing', source: '/t' });
        router.on(Charged, (event) => {
          handled.push(event.data.orderId);
        });
        await router.start();
        const publisher = createPublisher({ transport, source: '/t' });
        await publisher.publish(Charged, { orderId: 'first', cents: 1 });
        await waitFor(() => handled.length === 1, 'the first event', 60_000);
        await router.close();
        await publisher.publish(Charged, { orderId: 'later-1', cents: 1 });
        await publisher.publish(Charged, { orderId: 'later-2', cents: 1 });

        const env = { HERALD_BROKER: broker.url, HERALD_TOPIC_PREFIX: prefix, HERALD_CONTRACTS: contracts };
        const io = captureIo(env);
        assert.equal(await run(['status', '--json'], io), 0, io.err());
        const lags = (JSON.parse(io.out()) as { lag: { perPartition: ConsumerLag[] } }).lag.perPartition;
        assert.ok(lags.length > 0, io.out());
        assert.ok(
          lags.every((l) => l.group === 'billing' && l.topic === 'charges'),
          io.out(),
        );
        assert.equal(
          lags.reduce((n, l) => n + l.lag, 0),
          2,
          io.out(),
        );
      } finally {
        await transport.close();
      }
    });
  });
}
