// A private nats-server (its own port and store) that the test stops and starts again: records survive the
// restart, and subscriptions carry on once the client reconnects.
import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { createPublisher, decodeRecord, defineEvent, type Delivery } from '@herald/core';
import { delay, testSchema, uniqueName, waitFor } from '@herald/core/testing';
import { nats } from '../src/index.ts';
import { testOptions } from './nats-test-server.ts';
import { natsServerBinary, PrivateNatsServer } from './private-nats-server.ts';

const Ping = (topic: string) =>
  defineEvent({ type: 'RestartPinged', topic, schema: testSchema, key: (data) => data.key });

if (natsServerBinary === undefined) {
  if (process.env.CI === 'true')
    throw new Error('nats-server is not installed (CI=true: failing, not skipping)');
  it('survives a server restart', (ctx) => ctx.skip('nats-server is not installed'));
} else {
  const server = new PrivateNatsServer(natsServerBinary);
  after(() => server.remove());

  it('survives a server restart: stored records stay, subscriptions resume', async () => {
    await server.start();
    const transport = nats({
      ...testOptions,
      servers: server.servers,
      connectionOptions: { reconnectTimeWait: 100 },
    });
    try {
      const topic = uniqueName('restart');
      const publisher = createPublisher({ transport, source: '/herald/nats-test' });
      const seen = new Map<string, number[]>();
      const subscription = transport.subscribe(
        { group: uniqueName('g'), topics: [topic], concurrency: 4 },
        async (delivery: Delivery) => {
          const { key, seq } = decodeRecord(delivery.record).data as { key: string; seq: number };
          const list = seen.get(key) ?? [];
          if (!list.includes(seq)) list.push(seq);
          seen.set(key, list);
          await delivery.ack();
        },
      );
      await subscription.ready;
      for (let seq = 0; seq < 5; seq++) {
        await Promise.all(['a', 'b', 'c'].map((key) => publisher.publish(Ping(topic), { key, seq })));
      }
      await waitFor(
        () => [...seen.values()].every((l) => l.length === 5) && seen.size === 3,
        10_000,
        'first half',
      );
      await server.stop();
      await delay(300);
      await server.start();
      for (let seq = 5; seq < 10; seq++) {
        for (const key of ['a', 'b', 'c']) {
          // The client may not have reconnected yet: a failed publish is retried, as an outbox relay would.
          await waitFor(
            () =>
              publisher.publish(Ping(topic), { key, seq }).then(
                () => true,
                () => false,
              ),
            10_000,
            'a publish after the restart',
          );
        }
      }
      await waitFor(() => [...seen.values()].every((l) => l.length === 10), 20_000, 'second half');
      for (const [key, list] of seen)
        assert.deepEqual(list, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], `order of ${key}`);
      await subscription.close({ timeoutMs: 1000 });
    } finally {
      await transport.close({ timeoutMs: 100 });
      await server.stop();
    }
  });
}
