import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createRouter } from '../../router.ts';
import { delay, uniqueName, waitFor } from '../wait.ts';
import { Ping, type ContractContext } from './context.ts';

/** The dead-letter queue (`deadLetterQueue`): what a dead letter carries, invalid events, replay to the failing group only. */
export function deadLetterCases(c: ContractContext): void {
  const { transport, publishPings, timeoutMs, rebalanceMs } = c;
  it('dead-letters after the last attempt, with the error, attempts, group and origin', async (ctx) => {
    const t = await transport();
    if (!t.capabilities.deadLetterQueue) {
      ctx.skip('deadLetterQueue not declared');
      return;
    }
    const topic = uniqueName('dlq');
    const group = uniqueName('g');
    let calls = 0;
    const router = createRouter({
      transport: t,
      group,
      source: '/herald/contract',
      retry: { attempts: 2, backoff: { initialMs: 1, maxMs: 1 } },
      redelivery: { maxDeliveries: 2, backoff: { initialMs: 10, maxMs: 10 } },
    }).on(Ping(topic), () => {
      calls++;
      throw new Error('always fails');
    });
    await router.start();
    try {
      await publishPings(t, topic, ['k'], 1);
      await waitFor(
        async () => (await t.deadLetters!.list({ group })).length === 1,
        timeoutMs,
        'the dead letter',
      );
      const [dead] = await t.deadLetters!.list({ group });
      assert.equal(calls, 4, 'two deliveries of two tries each');
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
  });

  it('dead-letters an invalid event at once, with the validation reason', async (ctx) => {
    const t = await transport();
    if (!t.capabilities.deadLetterQueue) {
      ctx.skip('deadLetterQueue not declared');
      return;
    }
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
      await waitFor(
        async () => (await t.deadLetters!.list({ group })).length === 2,
        timeoutMs,
        'two dead letters',
      );
      const dead = await t.deadLetters!.list({ group });
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

  it('replays a dead letter to the group that failed, and to no other', async (ctx) => {
    const t = await transport();
    if (!t.capabilities.deadLetterQueue) {
      ctx.skip('deadLetterQueue not declared');
      return;
    }
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
      await waitFor(
        async () => (await t.deadLetters!.list({ group: failing })).length === 1,
        timeoutMs,
        'the dead letter',
      );
      await waitFor(() => healthySeen.length === 1, timeoutMs, 'the healthy group');
      broken = false;
      const [dead] = await t.deadLetters!.list({ group: failing });
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

  it('replays a dead letter with attributes set, which it keeps if it is dead-lettered again', async (ctx) => {
    const t = await transport();
    if (!t.capabilities.deadLetterQueue) {
      ctx.skip('deadLetterQueue not declared');
      return;
    }
    const topic = uniqueName('replayattr');
    const group = uniqueName('g');
    let calls = 0;
    const router = createRouter({
      transport: t,
      group,
      source: '/herald/contract',
      retry: false,
      redelivery: false,
    }).on(Ping(topic), () => {
      calls++;
      throw new Error('still broken');
    });
    await router.start();
    try {
      await publishPings(t, topic, ['k'], 1);
      await waitFor(
        async () => (await t.deadLetters!.list({ group })).length === 1,
        timeoutMs,
        'the dead letter',
      );
      const [first] = await t.deadLetters!.list({ group });
      assert.equal(first!.record.attributes.replaycount, undefined);
      await t.deadLetters!.replay(first!.id, { attributes: { replaycount: '1' } });
      await waitFor(
        async () => (await t.deadLetters!.list({ group })).some((d) => d.id !== first!.id),
        timeoutMs + rebalanceMs,
        'the dead letter of the replay',
      );
      const dead = await t.deadLetters!.list({ group });
      assert.equal(dead.length, 1);
      assert.equal(calls, 2);
      assert.equal(dead[0]!.record.attributes.replaycount, '1');
      assert.equal(dead[0]!.record.attributes.id, first!.record.attributes.id, 'the same event');
      assert.deepEqual(dead[0]!.record.data, first!.record.data);
    } finally {
      await router.close();
    }
  });
}
