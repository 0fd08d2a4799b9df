// A private nats-server (its own port and store) that the test stops and starts again: records survive the
// restart, and subscriptions carry on once the client reconnects.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { createPublisher, decodeRecord, defineEvent, type Delivery } from '@herald/core';
import { delay, testSchema, uniqueName, waitFor } from '@herald/core/testing';
import { connect } from '@nats-io/transport-node';
import { nats } from '../src/index.ts';
import { testOptions } from './nats-test-server.ts';

const binary = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find(
  (path) => spawnSync(path, ['--version']).status === 0,
);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const Ping = (topic: string) =>
  defineEvent({ type: 'RestartPinged', topic, schema: testSchema, key: (data) => data.key });

if (binary === undefined) {
  if (process.env.CI === 'true')
    throw new Error('nats-server is not installed (CI=true: failing, not skipping)');
  it('survives a server restart', (ctx) => ctx.skip('nats-server is not installed'));
} else {
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'herald-nats-'));
  let server: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    server = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: 'ignore' });
    await waitFor(
      async () => {
        try {
          await (await connect({ servers: `127.0.0.1:${port}`, timeout: 500 })).close();
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      'the private server',
    );
  };
  const stop = async (): Promise<void> => {
    if (server === undefined || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server?.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  };
  after(() => {
    server?.kill('SIGKILL');
    rmSync(store, { recursive: true, force: true });
  });

  it('survives a server restart: stored records stay, subscriptions resume', async () => {
    await start();
    const transport = nats({
      ...testOptions,
      servers: `127.0.0.1:${port}`,
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
      await stop();
      await delay(300);
      await start();
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
      await stop();
    }
  });
}
