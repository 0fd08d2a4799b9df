import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { waitFor } from './capture-io.ts';
import { contractsModule, herald, heraldBin, repoRoot } from './cli-process.ts';
import { Charged } from './fixtures/contracts.ts';

/** What the broker test checks after the tail stopped: that what it reported removed is gone. */
export type AfterTail = (details: { group: string; stderr: string }) => Promise<void>;

/**
 * `herald tail --json` (the real process) receives an event `herald publish` sent, prints it as one JSON line, and
 * stops with exit code 0 on SIGTERM, saying what it removed from the broker or left there.
 */
export function tailWorkflow(broker: {
  name: string;
  url: string;
  afterTail?: AfterTail;
  /** Deletes what the run declared under its prefix (the topic's exchange…), once the tail stopped. */
  removeTopology?: (prefix: string) => Promise<unknown>;
}): void {
  describe(`herald tail and publish on ${broker.name}`, () => {
    it('tail --json prints a published event and stops cleanly on SIGTERM', async () => {
      const prefix = `clitail${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-`;
      const env = {
        HERALD_BROKER: broker.url,
        HERALD_TOPIC_PREFIX: prefix,
        HERALD_CONTRACTS: contractsModule,
      };
      const tail = spawn(process.execPath, [heraldBin, 'tail', 'charges', '--json', '--type', Charged.type], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      tail.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      tail.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => tail.on('exit', (code) => resolve(code)));
      try {
        await waitFor(
          () => stderr.includes('herald: tailing charges'),
          `the tail to be ready (${stderr})`,
          60_000,
        );
        const group = /as group (herald-tail-[0-9a-f]{12})/.exec(stderr)?.[1];
        assert.ok(group, stderr);

        const published = await herald(
          env,
          'publish',
          'charges',
          '--type',
          Charged.type,
          '--data',
          '{"orderId":"tail-1","cents":42}',
        );
        assert.equal(published.code, 0, published.stderr);
        const id = published.stdout.trim();
        await waitFor(() => stdout.includes(id), 'the tail to print the published event', 60_000);

        tail.kill('SIGTERM');
        assert.equal(await exited, 0, stderr);
        const [line, ...rest] = stdout.trim().split('\n');
        assert.deepEqual(rest, [], 'one event, one line');
        const printed = JSON.parse(line!) as Record<string, unknown>;
        assert.equal(printed.id, id);
        assert.equal(printed.topic, 'charges');
        assert.equal(printed.key, 'tail-1');
        assert.equal(printed.type, Charged.type);
        assert.equal(typeof printed.partition, 'number');
        assert.deepEqual(printed.data, { orderId: 'tail-1', cents: 42 });
        assert.doesNotMatch(stderr, /could not remove/);
        await broker.afterTail?.({ group: `${prefix}${group}`, stderr });
      } finally {
        if (tail.exitCode === null) {
          tail.kill('SIGKILL');
          await exited;
        }
        await broker.removeTopology?.(prefix);
      }
    });
  });
}
