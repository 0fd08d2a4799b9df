import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPublisher, createRouter, transportFromUrl, type ConsumerLag } from '@herald/core';
import { run } from '../src/main.ts';
import { captureIo, waitFor } from './capture-io.ts';
import { tempDir } from './cli-process.ts';
import { Charged } from './fixtures/contracts.ts';

const contracts = join(import.meta.dirname, 'fixtures', 'contracts.ts');

describe('herald status (sqlite)', () => {
  it('reports dead letters per group and lag per partition of the groups and topics --contracts names', async () => {
    const broker = `sqlite:${join(tempDir(), 'herald.db')}`;
    const env = { HERALD_BROKER: broker, HERALD_CONTRACTS: contracts, HERALD_TOPIC_PREFIX: 'st-' };
    const transport = await transportFromUrl(broker);
    const { withTopicPrefix } = await import('@herald/core');
    const prefixed = withTopicPrefix(transport, 'st-');
    try {
      const handled: string[] = [];
      const router = createRouter({
        transport: prefixed,
        group: 'billing',
        source: '/t',
        retry: false,
        redelivery: false,
      });
      router.on(Charged, (event) => {
        if (event.data.orderId === 'bad') throw new Error('card rejected');
        handled.push(event.data.orderId);
      });
      await router.start();
      const publisher = createPublisher({ transport: prefixed, source: '/t' });
      await publisher.publish(Charged, { orderId: 'ok', cents: 1 });
      await publisher.publish(Charged, { orderId: 'bad', cents: 1 });
      await waitFor(
        async () => handled.length === 1 && (await prefixed.deadLetters!.list()).length === 1,
        'one handled, one dead letter',
      );
      await waitFor(
        async () => ((await prefixed.consumerLag!()) ?? []).every((l) => l.lag === 0),
        'billing to commit',
      );
      await router.close();
      // Billing is stopped: these two wait for it.
      await publisher.publish(Charged, { orderId: 'later-1', cents: 1 });
      await publisher.publish(Charged, { orderId: 'later-2', cents: 1 });

      const io = captureIo(env);
      assert.equal(await run(['status', '--json'], io), 0, io.err());
      const status = JSON.parse(io.out()) as {
        groups: string[];
        groupsFrom: string;
        topics: string[];
        deadLetters: { total: number; perGroup: Record<string, number> };
        lag: { perPartition: ConsumerLag[] };
      };
      assert.deepEqual(status.groups, ['billing']);
      assert.equal(status.groupsFrom, '--contracts');
      assert.deepEqual(status.topics, ['charges']);
      assert.equal(status.deadLetters.total, 1);
      assert.deepEqual(status.deadLetters.perGroup, { billing: 1 });
      const lags = status.lag.perPartition;
      assert.ok(lags.length >= 1 && lags.every((l) => l.group === 'billing' && l.topic === 'charges'));
      assert.equal(
        lags.reduce((n, l) => n + l.lag, 0),
        2,
        JSON.stringify(lags),
      );
      assert.equal(new Set(lags.map((l) => l.partition)).size, lags.length, 'one row per partition');

      const text = captureIo(env);
      assert.equal(
        await run(['status', '--group', 'billing', '--group', 'nobody', '--topic', 'charges'], text),
        0,
      );
      assert.match(text.out(), /billing {2}charges {2}total 2 {2}\(p0=\d+/);
      assert.match(text.out(), /nobody {2}charges {2}no position/);
      assert.match(text.out(), /billing: 1\n/);
    } finally {
      await prefixed.close();
    }
  });

  it('says what it cannot report instead of guessing', async () => {
    const io = captureIo({ HERALD_BROKER: `sqlite:${join(tempDir(), 'herald.db')}` });
    assert.equal(await run(['status'], io), 0, io.err());
    assert.match(io.out(), /lag {11}give --group and --topic/);
    const memoryIo = captureIo({ HERALD_BROKER: 'memory:' });
    assert.equal(await run(['status', '--group', 'g', '--topic', 't'], memoryIo), 0, memoryIo.err());
    assert.match(memoryIo.out(), /lag {11}not reported by memory/);
  });
});

describe('herald status with a broker it cannot use', () => {
  it('reports the failure without the URL password, whether the URL or the connection fails', async () => {
    for (const broker of [
      'amqp://app:secretpw@127.0.0.1:1?connectAttempts=1',
      'amqp://app:secretpw@127.0.0.1:5672?prefetch=lots',
      'nats://app:secretpw@127.0.0.1:1',
    ]) {
      const io = captureIo({});
      const code = await run(['status', '--broker', broker, '--group', 'billing', '--topic', 'charges'], io);
      assert.notEqual(code, 0, `${broker}: ${io.out()}`);
      assert.match(io.err(), /^herald: /);
      assert.doesNotMatch(`${io.out()}${io.err()}`, /secretpw/, broker);
    }
  });
});
