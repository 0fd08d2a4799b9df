import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPublisher, transportFromUrl, withTopicPrefix } from '@herald/core';
import type { ErrorGroup } from '../src/dead-letter-ops.ts';
import { waitFor } from './capture-io.ts';
import { contractsModule, deadLetteringRouter, herald } from './cli-process.ts';
import { Charged } from './fixtures/contracts.ts';

/**
 * The CLI's dead-letter workflow end to end through the real `herald` process on `broker`: list grouped, show, a
 * rejected and an accepted edit, replay of an error group, discard.
 */
export function dlqWorkflow(broker: {
  name: string;
  url: string;
  /** Deletes what the run declared under its prefix, once everything closed. */
  removeTopology?: (prefix: string) => Promise<unknown>;
}): void {
  describe(`herald dlq workflow on ${broker.name}`, () => {
    it('lists grouped by error, validates an edit, replays a group, discards', async () => {
      const prefix = `clie2e${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-`;
      const env = {
        HERALD_BROKER: broker.url,
        HERALD_TOPIC_PREFIX: prefix,
        HERALD_CONTRACTS: contractsModule,
      };
      const transport = withTopicPrefix(await transportFromUrl(broker.url), prefix);
      let broken = true;
      const handled: { orderId: string; cents: number }[] = [];
      const router = deadLetteringRouter(transport, '/cli-test');
      router.on(Charged, (event) => {
        if (broken) {
          throw event.data.orderId === 'poison'
            ? new TypeError('card rejected')
            : new Error(`order ${event.data.orderId} timed out after 30 s`);
        }
        handled.push(event.data);
      });
      await router.start();
      try {
        const publisher = createPublisher({ transport, source: '/cli-test' });
        await publisher.publish(Charged, { orderId: '101', cents: 100 });
        await publisher.publish(Charged, { orderId: '102', cents: 200 });
        await publisher.publish(Charged, { orderId: 'poison', cents: 300 });

        let groups: ErrorGroup[] = [];
        await waitFor(
          async () => {
            const list = await herald(env, 'dlq', 'list', '--group', 'billing', '--json');
            assert.equal(list.code, 0, list.stderr);
            groups = JSON.parse(list.stdout) as ErrorGroup[];
            return groups.reduce((n, g) => n + g.count, 0) === 3;
          },
          'three dead letters',
          60_000,
        );
        assert.equal(groups.length, 2, 'two error groups');
        const [timeouts, rejected] = groups;
        assert.equal(timeouts!.count, 2);
        assert.equal(timeouts!.message, 'order <n> timed out after <n> s');
        assert.equal(timeouts!.group, 'billing');
        assert.deepEqual(timeouts!.topics, ['charges']);
        assert.equal(rejected!.errorName, 'TypeError');

        const text = await herald(env, 'dlq', 'list', '--group', 'billing');
        assert.equal(text.code, 0);
        assert.match(text.stdout, new RegExp(`${timeouts!.key}\\s+2 × Error: order <n> timed out`));

        const show = await herald(env, 'dlq', 'show', rejected!.ids[0]!);
        assert.equal(show.code, 0, show.stderr);
        assert.match(show.stdout, /"orderId": "poison"/);
        assert.match(show.stdout, /TypeError: card rejected/);
        assert.match(show.stdout, /stack:/);

        broken = false;
        const invalid = await herald(
          env,
          'dlq',
          'edit',
          timeouts!.ids[0]!,
          '--data',
          '{"orderId":"101","cents":-5}',
        );
        assert.equal(invalid.code, 1);
        assert.match(invalid.stderr, /HERALD_VALIDATION/);
        const badJson = await herald(env, 'dlq', 'edit', timeouts!.ids[0]!, '--data', '{nope');
        assert.equal(badJson.code, 2);

        const edited = await herald(
          env,
          'dlq',
          'edit',
          timeouts!.ids[0]!,
          '--data',
          '{"orderId":"101","cents":150}',
        );
        assert.equal(edited.code, 0, edited.stderr);
        await waitFor(() => handled.some((d) => d.orderId === '101'), 'the edited event', 60_000);
        assert.deepEqual(
          handled.find((d) => d.orderId === '101'),
          { orderId: '101', cents: 150 },
        );

        const replay = await herald(
          env,
          'dlq',
          'replay',
          '--error-group',
          timeouts!.key,
          '--group',
          'billing',
          '--rate',
          '20',
        );
        assert.equal(replay.code, 0, replay.stderr);
        assert.match(replay.stdout, /1 replayed, 0 refused, 0 failed/);
        await waitFor(() => handled.some((d) => d.orderId === '102'), 'the replayed group', 60_000);

        const discard = await herald(env, 'dlq', 'discard', rejected!.ids[0]!);
        assert.equal(discard.code, 0, discard.stderr);
        const again = await herald(env, 'dlq', 'discard', rejected!.ids[0]!);
        assert.equal(again.code, 1);

        const empty = await herald(env, 'dlq', 'list', '--group', 'billing', '--json');
        assert.deepEqual(JSON.parse(empty.stdout), []);
        assert.equal(
          handled.filter((d) => d.orderId === 'poison').length,
          0,
          'the discarded event never ran',
        );
      } finally {
        await router.close();
        await transport.close();
        await broker.removeTopology?.(prefix);
      }
    });
  });
}
