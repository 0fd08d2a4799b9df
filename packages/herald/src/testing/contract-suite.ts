import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { decodeRecord } from '../codec.ts';
import { defineEvent } from '../event-definition.ts';
import type { CloudEvent } from '../message.ts';
import { createPublisher } from '../publisher.ts';
import { createRouter } from '../create-router.ts';
import type { Delivery, Subscription, Transport } from '../transport.ts';
import { testSchema } from './test-schema.ts';
import { delay, uniqueName, waitFor } from './wait.ts';

/** A transport under test. */
export interface ContractTarget {
  readonly name: string;
  /**
   * A new transport on the same broker (file, server) as every other `create()` of this target: a second call
   * plays a second process. Use short session timeouts so lost members are noticed quickly.
   */
  create(): Transport | Promise<Transport>;
  /**
   * For cross-process transports: a module exporting `createTransport()`, run in a child process that is killed
   * with SIGKILL before it acks, to test redelivery after a consumer process dies.
   */
  readonly childModule?: string;
  /** How long until a join or a lost member is reflected in every member's assignment. Default 1500 ms. */
  readonly rebalanceMs?: number;
  /** Bound of each wait for an asynchronous outcome. Default 15000 ms. */
  readonly timeoutMs?: number;
}

const Ping = (topic: string) =>
  defineEvent({ type: 'ContractPinged', topic, schema: testSchema, key: (data) => data.key });

interface Received {
  readonly event: CloudEvent;
  readonly delivery: Delivery;
}

/**
 * The one contract suite every transport passes. It registers `node:test` tests; what the transport does not
 * declare in `capabilities` is skipped, and what it declares is tested.
 */
export function runContractSuite(target: ContractTarget): void {
  const timeoutMs = target.timeoutMs ?? 15_000;
  const rebalanceMs = target.rebalanceMs ?? 1500;
  const open: Transport[] = [];
  const subscriptions: Subscription[] = [];

  async function transport(): Promise<Transport> {
    const t = await target.create();
    open.push(t);
    return t;
  }

  function subscribe(
    t: Transport,
    group: string,
    topic: string,
    onDelivery: (received: Received) => Promise<void> | void,
    concurrency = 4,
  ): Subscription {
    const subscription = t.subscribe({ group, topics: [topic], concurrency }, async (delivery) => {
      await onDelivery({ event: decodeRecord(delivery.record), delivery });
    });
    subscriptions.push(subscription);
    return subscription;
  }

  function acking(into: Received[]): (received: Received) => Promise<void> {
    return async (received) => {
      into.push(received);
      await received.delivery.ack();
    };
  }

  async function publishPings(
    t: Transport,
    topic: string,
    keys: readonly string[],
    perKey: number,
  ): Promise<void> {
    const publisher = createPublisher({ transport: t, source: '/herald/contract' });
    for (let seq = 0; seq < perKey; seq++) {
      await Promise.all(keys.map((key) => publisher.publish(Ping(topic), { key, seq })));
    }
  }

  describe(`transport contract: ${target.name}`, () => {
    after(async () => {
      await Promise.allSettled(subscriptions.map((s) => s.close({ timeoutMs: 100 })));
      await Promise.allSettled(open.map((t) => t.close({ timeoutMs: 100 })));
    });

    it('round-trips the envelope, extensions and data', async () => {
      const t = await transport();
      const topic = uniqueName('envelope');
      const received: Received[] = [];
      await subscribe(t, uniqueName('g'), topic, acking(received)).ready;
      const publisher = createPublisher({ transport: t, source: '/herald/contract' });
      const sent = await publisher.publish(
        Ping(topic),
        { key: 'k1', seq: 7, text: 'héllo ✓' },
        {
          subject: 'subject-1',
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          tracestate: 'vendor=value',
          correlationId: 'corr-1',
          causationId: 'cause-1',
          extensions: { tenant: 'acme' },
        },
      );
      await waitFor(() => received.length === 1, timeoutMs, 'the event');
      const got = received[0]!;
      assert.deepEqual(got.event, sent);
      assert.equal(got.delivery.record.key, 'k1');
      assert.equal(got.delivery.record.topic, topic);
      assert.equal(got.delivery.attempt, 1);
    });

    it('fans out every event to every group', async () => {
      const t = await transport();
      const topic = uniqueName('fanout');
      const a: Received[] = [];
      const b: Received[] = [];
      await Promise.all([
        subscribe(t, uniqueName('ga'), topic, acking(a)).ready,
        subscribe(t, uniqueName('gb'), topic, acking(b)).ready,
      ]);
      await publishPings(t, topic, ['x', 'y', 'z'], 5);
      await waitFor(() => a.length >= 15 && b.length >= 15, timeoutMs, 'both groups');
      for (const got of [a, b]) assert.equal(new Set(got.map((r) => r.event.id)).size, 15);
    });

    it("shares a group's events among competing consumers", async () => {
      const group = uniqueName('competing');
      const topic = uniqueName('competing');
      const first: Received[] = [];
      const second: Received[] = [];
      await subscribe(await transport(), group, topic, acking(first)).ready;
      await subscribe(await transport(), group, topic, acking(second)).ready;
      await delay(rebalanceMs);
      const keys = Array.from({ length: 16 }, (_, i) => `key-${i}`);
      await publishPings(await transport(), topic, keys, 4);
      await waitFor(
        () => new Set([...first, ...second].map((r) => r.event.id)).size === 64,
        timeoutMs,
        'all events',
      );
      assert.ok(
        first.length > 0 && second.length > 0,
        `both members got events (${first.length}, ${second.length})`,
      );
      assert.equal(first.length + second.length, 64, 'each event went to one member');
    });

    it('keeps order per key while running keys in parallel', { skip: false }, async (ctx) => {
      const t = await transport();
      if (!t.capabilities.orderedPerKey) {
        ctx.skip('orderedPerKey not declared');
        return;
      }
      const topic = uniqueName('order');
      const seen = new Map<string, number[]>();
      let running = 0;
      let maxRunning = 0;
      await subscribe(
        t,
        uniqueName('g'),
        topic,
        async ({ event, delivery }) => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await delay(Math.random() * 3);
          const data = event.data as { key: string; seq: number };
          seen.set(data.key, [...(seen.get(data.key) ?? []), data.seq]);
          running--;
          await delivery.ack();
        },
        8,
      ).ready;
      const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
      await publishPings(t, topic, keys, 30);
      await waitFor(() => keys.every((k) => (seen.get(k)?.length ?? 0) >= 30), timeoutMs, 'all keys');
      for (const key of keys)
        assert.deepEqual(
          seen.get(key),
          Array.from({ length: 30 }, (_, i) => i),
          `order of ${key}`,
        );
      assert.ok(maxRunning > 1, `keys ran in parallel (max ${maxRunning} at once)`);
    });

    it('redelivers after retryLater, with the next attempt number', async () => {
      const t = await transport();
      const topic = uniqueName('nack');
      const attempts: number[] = [];
      await subscribe(t, uniqueName('g'), topic, async ({ delivery }) => {
        attempts.push(delivery.attempt);
        if (delivery.attempt === 1) await delivery.retryLater(10, { name: 'Error', message: 'try again' });
        else await delivery.ack();
      }).ready;
      await publishPings(t, topic, ['k'], 1);
      await waitFor(() => attempts.length === 2, timeoutMs, 'the redelivery');
      assert.deepEqual(attempts, [1, 2]);
    });

    async function delayScenario(t: Transport): Promise<{ log: string[]; redeliveredAfter: number }> {
      const topic = uniqueName('delay');
      const log: string[] = [];
      let parkedAt = 0;
      let redeliveredAfter = 0;
      await subscribe(t, uniqueName('g'), topic, async ({ event, delivery }) => {
        const data = event.data as { key: string; seq: number };
        if (data.key === 'slow' && data.seq === 0 && delivery.attempt === 1) {
          parkedAt = Date.now();
          await delivery.retryLater(400, { name: 'Error', message: 'later' });
          return;
        }
        if (data.key === 'slow' && data.seq === 0) redeliveredAfter = Date.now() - parkedAt;
        log.push(`${data.key}${data.seq}`);
        await delivery.ack();
      }).ready;
      const publisher = createPublisher({ transport: t, source: '/herald/contract' });
      await publisher.publish(Ping(topic), { key: 'slow', seq: 0 });
      await publisher.publish(Ping(topic), { key: 'slow', seq: 1 });
      await publisher.publish(Ping(topic), { key: 'fast', seq: 0 });
      await waitFor(() => log.length === 3, timeoutMs, 'all three');
      return { log, redeliveredAfter };
    }

    it('delays a redelivery without blocking other keys', async (ctx) => {
      const t = await transport();
      if (!t.capabilities.delayedDelivery) {
        ctx.skip('delayedDelivery not declared');
        return;
      }
      const { log, redeliveredAfter } = await delayScenario(t);
      assert.ok(log.indexOf('fast0') < log.indexOf('slow0'), `other keys flowed meanwhile: ${log.join(',')}`);
      assert.ok(redeliveredAfter >= 350, `the delay was honoured (${redeliveredAfter} ms)`);
    });

    it('keeps a redelivered record ahead of later records with its key', async (ctx) => {
      const t = await transport();
      if (!t.capabilities.orderedRedelivery) {
        ctx.skip('orderedRedelivery not declared');
        return;
      }
      const { log } = await delayScenario(t);
      assert.ok(
        log.indexOf('slow0') < log.indexOf('slow1'),
        `the failing key kept its order: ${log.join(',')}`,
      );
    });

    it('redelivers what an abandoned consumer did not settle', async () => {
      const group = uniqueName('abandon');
      const topic = uniqueName('abandon');
      const t1 = await transport();
      let started = false;
      const first = subscribe(t1, group, topic, () => {
        started = true;
        return new Promise<void>(() => undefined);
      });
      await first.ready;
      await publishPings(t1, topic, ['k'], 1);
      await waitFor(() => started, timeoutMs, 'the first delivery');
      await first.close({ timeoutMs: 0 });
      const again: Received[] = [];
      await subscribe(await transport(), group, topic, acking(again)).ready;
      await waitFor(() => again.length === 1, timeoutMs + rebalanceMs, 'the redelivery');
    });

    it('redelivers after the consumer process is killed before its ack', async (ctx) => {
      if (target.childModule === undefined) {
        ctx.skip('in-process transport: covered by the abandoned-consumer test');
        return;
      }
      const group = uniqueName('killed');
      const topic = uniqueName('killed');
      // From sources the child is `.ts` run under tsx; from the published build it is plain `.js`.
      const fromSource = import.meta.url.endsWith('.ts');
      const script = fileURLToPath(
        new URL(fromSource ? './crash-child.ts' : './crash-child.js', import.meta.url),
      );
      const loader = fromSource ? ['--import', 'tsx'] : [];
      const child = spawn(process.execPath, [...loader, script, target.childModule, topic, group], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      try {
        await waitFor(() => output.includes('READY'), timeoutMs, 'the child to join');
        const t = await transport();
        await publishPings(t, topic, ['k'], 1);
        assert.equal(await exited, 'SIGKILL');
        const id = /DELIVERED (\S+)/.exec(output)?.[1];
        assert.ok(id, 'the child received the event before dying');
        const again: Received[] = [];
        await subscribe(t, group, topic, acking(again)).ready;
        await waitFor(() => again.length >= 1, timeoutMs + rebalanceMs, 'the redelivery');
        assert.equal(again[0]!.event.id, id);
      } finally {
        child.kill('SIGKILL');
      }
    });

    it('does not redeliver what was acked', async () => {
      const group = uniqueName('acked');
      const topic = uniqueName('acked');
      const t = await transport();
      const first: Received[] = [];
      const subscription = subscribe(t, group, topic, acking(first));
      await subscription.ready;
      await publishPings(t, topic, ['a', 'b'], 5);
      await waitFor(() => first.length === 10, timeoutMs, 'the first batch');
      await subscription.close();
      const second: Received[] = [];
      await subscribe(await transport(), group, topic, acking(second)).ready;
      await publishPings(t, topic, ['marker'], 1);
      await waitFor(() => second.length >= 1, timeoutMs + rebalanceMs, 'the marker');
      await delay(100);
      assert.deepEqual(
        second.map((r) => (r.event.data as { key: string }).key),
        ['marker'],
      );
    });

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
        createRouter({ transport: t, group: healthy, source: '/herald/contract' }).on(
          Ping(topic),
          (event) => {
            healthySeen.push(event.id);
          },
        ),
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

    it('replays a group from the earliest offset', async (ctx) => {
      const t = await transport();
      if (!t.capabilities.replay || t.seek === undefined) {
        ctx.skip('replay not declared');
        return;
      }
      const group = uniqueName('seek');
      const topic = uniqueName('seek');
      const seen: Received[] = [];
      const subscription = subscribe(t, group, topic, acking(seen));
      await subscription.ready;
      await publishPings(t, topic, ['a', 'b'], 3);
      await waitFor(() => seen.length === 6, timeoutMs, 'the first pass');
      await subscription.close();
      await t.seek(group, topic, 'earliest');
      await subscribe(t, group, topic, acking(seen)).ready;
      await waitFor(() => seen.length === 12, timeoutMs + rebalanceMs, 'the replay');
      assert.deepEqual(
        new Set(seen.slice(6).map((r) => r.event.id)),
        new Set(seen.slice(0, 6).map((r) => r.event.id)),
      );
    });

    it('closes gracefully: waits for in-flight work, then refuses to publish', async () => {
      const t = await transport();
      const topic = uniqueName('close');
      let finished = false;
      let started = false;
      const subscription = subscribe(t, uniqueName('g'), topic, async ({ delivery }) => {
        started = true;
        await delay(150);
        finished = true;
        await delivery.ack();
      });
      await subscription.ready;
      await publishPings(t, topic, ['k'], 1);
      await waitFor(() => started, timeoutMs, 'the delivery');
      await subscription.close({ timeoutMs: 5000 });
      assert.ok(finished, 'close waited for the handler');
      await subscription.close();
      await t.close();
      await t.close();
      await assert.rejects(() => publishPings(t, topic, ['k'], 1), { code: 'HERALD_CLOSED' });
    });
  });
}
