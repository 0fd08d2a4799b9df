import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPublisher, createRouter, defineEvent, memory, type Transport } from '@herald/core';
import { z } from 'zod';
import {
  editAndReplay,
  groupDeadLetters,
  listAll,
  normaliseErrorMessage,
  REPLAY_COUNT_ATTRIBUTE,
  replayDeadLetters,
  type Clock,
} from '../src/dead-letter-ops.ts';

const Charged = defineEvent({
  type: 'Charged',
  topic: 'charges',
  key: (d) => d.orderId,
  schema: z.object({ orderId: z.string(), cents: z.number().int() }),
});

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A memory transport whose `billing` group fails every Charged event with `fail(data)`. */
async function failing(fail: (data: { orderId: string; cents: number }) => Error) {
  const transport: Transport = memory();
  let broken = true;
  const handled: string[] = [];
  const router = createRouter({
    transport,
    group: 'billing',
    source: '/test',
    retry: false,
    redelivery: false,
  });
  router.on(Charged, (event) => {
    if (broken) throw fail(event.data);
    handled.push(event.data.orderId);
  });
  await router.start();
  const publisher = createPublisher({ transport, source: '/test' });
  return {
    transport,
    queue: transport.deadLetters!,
    handled,
    fix: () => {
      broken = false;
    },
    publish: (orderId: string, cents = 100) => publisher.publish(Charged, { orderId, cents }),
    close: async () => {
      await router.close();
      await transport.close();
    },
  };
}

describe('dead-letter operations', () => {
  it('normalises what varies between occurrences of one fault', () => {
    assert.equal(
      normaliseErrorMessage(
        'order 42 (0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b) failed at 2026-12-03T11:00:00.123Z',
      ),
      'order <n> (<uuid>) failed at <time>',
    );
    assert.equal(normaliseErrorMessage('card  declined'), 'card declined');
  });

  it('groups dead letters by error class and normalised message, with counts and first/last seen', async () => {
    const t = await failing((d) =>
      d.orderId.startsWith('x')
        ? new TypeError(`bad card for ${d.orderId}`)
        : new Error(`order ${d.orderId} timed out`),
    );
    try {
      for (const id of ['1', '2', '3']) await t.publish(id);
      await t.publish('x9');
      await waitFor(async () => (await listAll(t.queue)).length === 4, 'four dead letters');
      const groups = groupDeadLetters(await listAll(t.queue));
      assert.equal(groups.length, 2);
      const [timeouts, cards] = groups;
      assert.equal(timeouts!.count, 3);
      assert.equal(timeouts!.errorName, 'Error');
      assert.equal(timeouts!.message, 'order <n> timed out');
      assert.equal(timeouts!.group, 'billing');
      assert.deepEqual(timeouts!.types, ['Charged']);
      assert.ok(timeouts!.firstSeen <= timeouts!.lastSeen);
      assert.equal(cards!.count, 1);
      assert.equal(cards!.errorName, 'TypeError');
      assert.notEqual(timeouts!.key, cards!.key);
      assert.match(timeouts!.key, /^[0-9a-f]{10}$/);
    } finally {
      await t.close();
    }
  });

  it('refuses to replay an event more than maxReplays times, counting replays on the event', async () => {
    const t = await failing(() => new Error('still down'));
    try {
      await t.publish('o-1');
      await waitFor(async () => (await listAll(t.queue)).length === 1, 'the dead letter');
      for (let replay = 1; replay <= 2; replay++) {
        const [dead] = await listAll(t.queue);
        const report = await replayDeadLetters(t.queue, [dead!.id], { maxReplays: 2 });
        assert.deepEqual(report.replayed, [dead!.id]);
        await waitFor(
          async () =>
            (await listAll(t.queue)).some(
              (d) => d.record.attributes[REPLAY_COUNT_ATTRIBUTE] === String(replay),
            ),
          `dead letter after replay ${replay}`,
        );
      }
      const [dead] = await listAll(t.queue);
      const refused = await replayDeadLetters(t.queue, [dead!.id], { maxReplays: 2 });
      assert.deepEqual(refused.replayed, []);
      assert.deepEqual(refused.refused, [{ id: dead!.id, replays: 2 }]);
      assert.equal((await listAll(t.queue)).length, 1, 'a refused dead letter stays');
      const unknown = await replayDeadLetters(t.queue, ['nope']);
      assert.equal(unknown.failed[0]!.error.code, 'HERALD_DEAD_LETTER_NOT_FOUND');
      await assert.rejects(replayDeadLetters(t.queue, [], { maxReplays: 0 }), { code: 'HERALD_CONFIG' });
    } finally {
      await t.close();
    }
  });

  it('spaces replays to the rate limit and reports progress', async () => {
    const t = await failing(() => new Error('down'));
    try {
      for (const id of ['a', 'b', 'c', 'd']) await t.publish(id);
      await waitFor(async () => (await listAll(t.queue)).length === 4, 'four dead letters');
      t.fix();
      let now = 1000;
      const sleeps: number[] = [];
      const clock: Clock = {
        now: () => now,
        sleep: (ms) => {
          sleeps.push(ms);
          now += ms;
          return Promise.resolve();
        },
      };
      const progress: number[] = [];
      const ids = (await listAll(t.queue)).map((d) => d.id);
      const report = await replayDeadLetters(t.queue, ids, {
        ratePerSecond: 2,
        clock,
        onProgress: (p) => progress.push(p.done),
      });
      assert.equal(report.replayed.length, 4);
      assert.deepEqual(sleeps, [500, 500, 500], 'one replay every 500 ms at 2/s, the first at once');
      assert.deepEqual(progress, [1, 2, 3, 4]);
      await waitFor(() => Promise.resolve(t.handled.length === 4), 'the replays handled');
      assert.deepEqual([...t.handled].sort(), ['a', 'b', 'c', 'd']);
    } finally {
      await t.close();
    }
  });

  it('validates edited data against the schema, then replays it', async () => {
    const t = await failing(() => new Error('bad amount'));
    try {
      await t.publish('o-7', 1);
      await waitFor(async () => (await listAll(t.queue)).length === 1, 'the dead letter');
      const [dead] = await listAll(t.queue);
      await assert.rejects(
        editAndReplay(t.queue, dead!.id, { orderId: 'o-7', cents: 'ten' }, { definition: Charged }),
        {
          code: 'HERALD_VALIDATION',
        },
      );
      assert.equal((await listAll(t.queue)).length, 1, 'still there after a rejected edit');
      t.fix();
      const report = await editAndReplay(
        t.queue,
        dead!.id,
        { orderId: 'o-7-fixed', cents: 250 },
        { definition: Charged },
      );
      assert.deepEqual(report.replayed, [dead!.id]);
      await waitFor(() => Promise.resolve(t.handled.includes('o-7-fixed')), 'the edited event');
    } finally {
      await t.close();
    }
  });
});
