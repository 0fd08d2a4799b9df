import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPublisher, transportFromUrl, withTopicPrefix } from '@herald/core';
import { removePrefixedTopology } from '../../rabbitmq/test/prefixed-topology.ts';
import type { ErrorGroup } from '../src/dead-letter-ops.ts';
import { run } from '../src/main.ts';
import { captureIo, waitFor } from './capture-io.ts';
import { contractsModule, deadLetteringRouter } from './cli-process.ts';
import { Charged } from './fixtures/contracts.ts';

const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

describe('dlq list and status on RabbitMQ, which cannot enumerate its queues', () => {
  it('refuses dlq list without groups saying why, lists the groups --contracts names, and reports no lag', async () => {
    const prefix = `cliscope${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-`;
    const env = { HERALD_BROKER: url, HERALD_TOPIC_PREFIX: prefix };
    const transport = withTopicPrefix(await transportFromUrl(url), prefix);
    const router = deadLetteringRouter(transport);
    router.on(Charged, () => {
      throw new Error('card rejected');
    });
    await router.start();
    try {
      await createPublisher({ transport, source: '/t' }).publish(Charged, { orderId: 'o-1', cents: 1 });
      await waitFor(
        async () => (await transport.deadLetters!.list({ group: 'billing' })).length === 1,
        'the dead letter',
      );

      const bare = captureIo(env);
      assert.equal(await run(['dlq', 'list'], bare), 2);
      assert.match(
        bare.err(),
        /cannot enumerate dead-letter queues: AMQP 0-9-1 has no command to list queues/,
      );
      assert.match(bare.err(), /Give --group <group>/);

      const fromContracts = captureIo({ ...env, HERALD_CONTRACTS: contractsModule });
      assert.equal(await run(['dlq', 'list', '--json'], fromContracts), 0, fromContracts.err());
      assert.match(fromContracts.err(), /listing the groups --contracts names: billing/);
      const groups = JSON.parse(fromContracts.out()) as ErrorGroup[];
      assert.deepEqual(
        groups.map((g) => [g.group, g.count, g.message]),
        [['billing', 1, 'card rejected']],
      );

      const status = captureIo({ ...env, HERALD_CONTRACTS: contractsModule });
      assert.equal(await run(['status'], status), 0, status.err());
      assert.match(status.out(), /dead letters {2}1 in 1 error group\(s\)\n {2}billing: 1/);
      assert.match(status.out(), /lag {11}not reported by rabbitmq/);

      const statusBare = captureIo(env);
      assert.equal(await run(['status'], statusBare), 0, statusBare.err());
      assert.match(statusBare.out(), /dead letters {2}not reported by rabbitmq without --group/);
    } finally {
      await router.close();
      await transport.close();
      const removed = await removePrefixedTopology(url, prefix);
      assert.ok(removed.queues.length > 0, `the run's queues (prefix ${prefix}) were found and deleted`);
    }
  });
});
