import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createRouter, type RouterOptions } from '../../create-router.ts';
import type { Router } from '../../router.ts';
import type { DeadLetter, Transport } from '../../transport.ts';
import { delay, uniqueName, waitFor } from '../wait.ts';
import { Ping, type ContractContext } from './context.ts';

/** The dead-letter queue (`deadLetterQueue`): what a dead letter carries, invalid events, replay to the failing group only. */
export function deadLetterCases(c: ContractContext): void {
  const { transportWith, publishPings, timeoutMs, rebalanceMs } = c;

  /** Registers a test that runs where the transport declares a dead-letter queue, and is skipped elsewhere. */
  function deadLetterCase(name: string, body: (t: Transport) => Promise<void>): void {
    it(name, async (ctx) => {
      const t = await transportWith(ctx, 'deadLetterQueue');
      if (t !== undefined) await body(t);
    });
  }

  /** Waits until `group` has `count` dead letters, and returns them. */
  async function deadLettersOf(
    t: Transport,
    group: string,
    count: number,
    what: string,
  ): Promise<DeadLetter[]> {
    await waitFor(async () => (await t.deadLetters!.list({ group })).length === count, timeoutMs, what);
    return t.deadLetters!.list({ group });
  }

  /** A started router for `group` whose handler always throws `message`; `calls()` counts the handler's runs. */
  async function failingRouter(
    t: Transport,
    topic: string,
    group: string,
    message: string,
    policy: Pick<RouterOptions, 'retry' | 'redelivery'> = { retry: false, redelivery: false },
  ): Promise<{ router: Router; calls: () => number }> {
    let calls = 0;
    const router = createRouter({ transport: t, group, source: '/herald/contract', ...policy }).on(
      Ping(topic),
      () => {
        calls++;
        throw new Error(message);
      },
    );
    await router.start();
    return { router, calls: () => calls };
  }

  deadLetterCase(
    'dead-letters after the last attempt, with the error, attempts, group and origin',
    async (t) => {
      const topic = uniqueName('dlq');
      const group = uniqueName('g');
      const { router, calls } = await failingRouter(t, topic, group, 'always fails', {
        retry: { attempts: 2, backoff: { initialMs: 1, maxMs: 1 } },
        redelivery: { maxDeliveries: 2, backoff: { initialMs: 10, maxMs: 10 } },
      });
      try {
        await publishPings(t, topic, ['k'], 1);
        const [dead] = await deadLettersOf(t, group, 1, 'the dead letter');
        assert.equal(calls(), 4, 'two deliveries of two tries each');
        assert.equal(dead!.group, group);
        assert.equal(dead!.record.topic, topic);
        assert.equal(dead!.failure.attempts, 2);
        assert.equal(dead!.failure.reason, 'max-attempts');
        assert.equal(dead!.failure.error.message, 'always fails');
        assert.match(dead!.failure.error.stack ?? '', /always fails/);
        assert.ok(dead!.partition >= 0 && /^\d+$/.test(dead!.offset));
      } finally {
        await router.close();
      }
    },
  );

  deadLetterCase('dead-letters an invalid event at once, with the validation reason', async (t) => {
    const topic = uniqueName('invalid');
    const group = uniqueName('g');
    let calls = 0;
    const router = createRouter({ transport: t, group, source: '/herald/contract' }).on(Ping(topic), () => {
      calls++;
    });
    await router.start();
    try {
      const encoder = new TextEncoder();
      await t.publish([
        {
          topic,
          key: 'k',
          attributes: {
            specversion: '1.0',
            id: 'bad-1',
            source: '/elsewhere',
            type: 'ContractPinged',
            datacontenttype: 'application/json',
          },
          data: encoder.encode(JSON.stringify({ key: 'k', seq: 'not a number' })),
        },
        {
          topic,
          key: 'k',
          attributes: { specversion: '1.0', source: '/elsewhere' },
          data: encoder.encode('{'),
        },
      ]);
      const dead = await deadLettersOf(t, group, 2, 'two dead letters');
      const reasons = dead.map((d) => d.failure.reason).sort();
      assert.deepEqual(reasons, ['decode', 'validation']);
      const invalid = dead.find((d) => d.failure.reason === 'validation')!;
      assert.match(invalid.failure.error.message, /seq/);
      assert.equal(invalid.failure.attempts, 1);
      assert.equal(calls, 0);
    } finally {
      await router.close();
    }
  });

  deadLetterCase('replays a dead letter to the group that failed, and to no other', async (t) => {
    const topic = uniqueName('replay');
    const failing = uniqueName('failing');
    const healthy = uniqueName('healthy');
    let broken = true;
    const failingSeen: string[] = [];
    const healthySeen: string[] = [];
    const routers = [
      createRouter({
        transport: t,
        group: failing,
        source: '/herald/contract',
        retry: false,
        redelivery: false,
      }).on(Ping(topic), (event) => {
        if (broken) throw new Error('broken for now');
        failingSeen.push(event.id);
      }),
      createRouter({ transport: t, group: healthy, source: '/herald/contract' }).on(Ping(topic), (event) => {
        healthySeen.push(event.id);
      }),
    ];
    await Promise.all(routers.map((r) => r.start()));
    try {
      await publishPings(t, topic, ['k'], 1);
      const [dead] = await deadLettersOf(t, failing, 1, 'the dead letter');
      await waitFor(() => healthySeen.length === 1, timeoutMs, 'the healthy group');
      broken = false;
      await t.deadLetters!.replay(dead!.id);
      await waitFor(() => failingSeen.length === 1, timeoutMs + rebalanceMs, 'the replay');
      await delay(200);
      assert.equal(healthySeen.length, 1, 'the healthy group did not see it again');
      assert.equal(failingSeen[0], dead!.record.attributes.id);
      assert.equal((await t.deadLetters!.list({ group: failing })).length, 0);
    } finally {
      await Promise.all(routers.map((r) => r.close()));
    }
  });

  deadLetterCase(
    'replays a dead letter with attributes set, which it keeps if it is dead-lettered again',
    async (t) => {
      const topic = uniqueName('replayattr');
      const group = uniqueName('g');
      const { router, calls } = await failingRouter(t, topic, group, 'still broken');
      try {
        await publishPings(t, topic, ['k'], 1);
        const [first] = await deadLettersOf(t, group, 1, 'the dead letter');
        assert.equal(first!.record.attributes.replaycount, undefined);
        await t.deadLetters!.replay(first!.id, { attributes: { replaycount: '1' } });
        await waitFor(
          async () => (await t.deadLetters!.list({ group })).some((d) => d.id !== first!.id),
          timeoutMs + rebalanceMs,
          'the dead letter of the replay',
        );
        const dead = await t.deadLetters!.list({ group });
        assert.equal(dead.length, 1);
        assert.equal(calls(), 2);
        assert.equal(dead[0]!.record.attributes.replaycount, '1');
        assert.equal(dead[0]!.record.attributes.id, first!.record.attributes.id, 'the same event');
        assert.deepEqual(dead[0]!.record.data, first!.record.data);
      } finally {
        await router.close();
      }
    },
  );
}
