import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createPublisher, createRouter, transportFromUrl, withTopicPrefix } from '@herald/core';
import type { ErrorGroup } from '../src/dead-letter-ops.ts';
import { Charged } from './fixtures/contracts.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const bin = join(root, 'packages', 'cli', 'bin', 'herald.mjs');
const contracts = join(import.meta.dirname, 'fixtures', 'contracts.ts');
/** A temporary folder for a test's files, removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI process. */
function herald(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: root, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function waitFor(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The CLI's dead-letter workflow end to end through the real `herald` process on `broker`: list grouped, show, a
 * rejected and an accepted edit, replay of an error group, discard.
 */
export function dlqWorkflow(broker: { name: string; url: string }): void {
  describe(`herald dlq workflow on ${broker.name}`, () => {
    it('lists grouped by error, validates an edit, replays a group, discards', async () => {
      const prefix = `clie2e${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-`;
      const env = { HERALD_BROKER: broker.url, HERALD_TOPIC_PREFIX: prefix, HERALD_CONTRACTS: contracts };
      const transport = withTopicPrefix(await transportFromUrl(broker.url), prefix);
      let broken = true;
      const handled: { orderId: string; cents: number }[] = [];
      const router = createRouter({
        transport,
        group: 'billing',
        source: '/cli-test',
        retry: false,
        redelivery: false,
      });
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
        await waitFor(async () => {
          const list = await herald(env, 'dlq', 'list', '--group', 'billing', '--json');
          assert.equal(list.code, 0, list.stderr);
          groups = JSON.parse(list.stdout) as ErrorGroup[];
          return groups.reduce((n, g) => n + g.count, 0) === 3;
        }, 'three dead letters');
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
        await waitFor(() => handled.some((d) => d.orderId === '101'), 'the edited event');
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
        await waitFor(() => handled.some((d) => d.orderId === '102'), 'the replayed group');

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
      }
    });
  });
}
