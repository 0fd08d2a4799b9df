import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createPublisher,
  createRouter,
  defineEvent,
  memory,
  silentHeraldLogger,
  type BatchEntry,
  type EventDefinition,
} from '@herald/core';
import { testSchema, uniqueName, waitFor } from '@herald/core/testing';
import { assertRefusedOption } from './refused-option.ts';

// Issue 12 item 5: router.onBatch, with each event settled on its own and order per key kept.

function setup(concurrency = 16) {
  const transport = memory();
  const topic = uniqueName('batches');
  const group = uniqueName('g');
  const Pinged = defineEvent({ type: 'Pinged', topic, schema: testSchema, key: (d) => d.key });
  const router = createRouter({
    transport,
    group,
    source: '/batches',
    concurrency,
    logger: silentHeraldLogger,
    retry: { attempts: 2, backoff: { initialMs: 1, maxMs: 2 } },
    redelivery: false,
  });
  const publisher = createPublisher({ transport, source: '/pinger' });
  const close = async (): Promise<void> => {
    await router.close();
    await transport.close();
  };
  return { transport, group, Pinged, router, publisher, close };
}

type Batch<D extends EventDefinition> = readonly BatchEntry<D>[];

describe('router.onBatch', () => {
  it('hands events over in batches of at most maxSize, each event once', async () => {
    const { Pinged, router, publisher, close } = setup(16);
    const batches: number[][] = [];
    router.onBatch(Pinged, (entries) => void batches.push(entries.map((e) => e.event.data.seq)), {
      maxSize: 10,
      maxWaitMs: 20,
    });
    await router.start();
    await Promise.all(
      Array.from({ length: 60 }, (_, seq) => publisher.publish(Pinged, { key: `k${seq}`, seq })),
    );
    await waitFor(() => batches.flat().length >= 60, 5000, 'every event handled');
    await close();
    const seen = batches.flat().sort((a, b) => a - b);
    assert.deepEqual(
      seen,
      Array.from({ length: 60 }, (_, seq) => seq),
      'each event once',
    );
    assert.ok(
      batches.every((b) => b.length >= 1 && b.length <= 10),
      `sizes ${batches.map((b) => b.length).join(',')}`,
    );
    assert.ok(
      batches.some((b) => b.length > 1),
      `events were batched (${batches.length} batches)`,
    );
  });

  it('settles each event on its own: only the ids the handler returns fail, and go on to the dead-letter queue', async () => {
    const { transport, group, Pinged, router, publisher, close } = setup();
    const calls = new Map<number, number>();
    router.onBatch(
      Pinged,
      (entries: Batch<typeof Pinged>) => {
        const failures = new Map<string, unknown>();
        for (const { event } of entries) {
          calls.set(event.data.seq, (calls.get(event.data.seq) ?? 0) + 1);
          if (event.data.seq === 3) failures.set(event.id, new Error('seq 3 is refused'));
        }
        return failures;
      },
      { maxSize: 8, maxWaitMs: 10 },
    );
    await router.start();
    for (let seq = 0; seq < 8; seq++) await publisher.publish(Pinged, { key: `k${seq}`, seq });
    const dlq = transport.deadLetters!;
    await waitFor(async () => (await dlq.list({ group })).length === 1, 5000, 'the dead letter');
    await waitFor(() => calls.size === 8, 5000, 'every event handled');
    await close();
    const [letter] = await dlq.list({ group });
    assert.match(letter!.failure.error.message, /seq 3 is refused/);
    assert.deepEqual(
      [...calls].sort(([a], [b]) => a - b),
      [
        [0, 1],
        [1, 1],
        [2, 1],
        [3, 2], // retried on its own (retry attempts 2), then dead-lettered
        [4, 1],
        [5, 1],
        [6, 1],
        [7, 1],
      ],
    );
  });

  it('fails every event of a batch whose handler throws, and retries them', async () => {
    const { transport, group, Pinged, router, publisher, close } = setup();
    const calls: number[] = [];
    let batchesRun = 0;
    router.onBatch(
      Pinged,
      (entries) => {
        batchesRun++;
        calls.push(...entries.map((e) => e.event.data.seq));
        if (batchesRun === 1) throw new Error('the bulk insert failed');
      },
      { maxSize: 4, maxWaitMs: 30 },
    );
    await router.start();
    await Promise.all([0, 1, 2, 3].map((seq) => publisher.publish(Pinged, { key: `k${seq}`, seq })));
    await waitFor(() => calls.length >= 8, 5000, 'each event tried twice');
    await close();
    assert.deepEqual(
      calls.sort((a, b) => a - b),
      [0, 0, 1, 1, 2, 2, 3, 3],
    );
    assert.equal((await transport.deadLetters!.list({ group })).length, 0);
  });

  it('keeps the order of each key: a batch holds one event per key, and a key’s events come in publish order', async () => {
    const { Pinged, router, publisher, close } = setup(16);
    const batches: { key: string; seq: number }[][] = [];
    router.onBatch(Pinged, (entries) => void batches.push(entries.map((e) => e.event.data)), {
      maxSize: 16,
      maxWaitMs: 5,
    });
    await router.start();
    const keys = ['a', 'b', 'c', 'd'];
    await Promise.all(
      keys.map(async (key) => {
        for (let seq = 0; seq < 25; seq++) await publisher.publish(Pinged, { key, seq });
      }),
    );
    await waitFor(() => batches.flat().length >= 100, 10_000, 'every event handled');
    await close();
    for (const batch of batches) {
      const batchKeys = batch.map((d) => d.key);
      assert.equal(
        new Set(batchKeys).size,
        batchKeys.length,
        `one event per key in a batch: ${batchKeys.join(',')}`,
      );
    }
    for (const key of keys) {
      const order = batches
        .flat()
        .filter((d) => d.key === key)
        .map((d) => d.seq);
      assert.deepEqual(
        order,
        Array.from({ length: 25 }, (_, i) => i),
        `order of ${key}`,
      );
    }
  });

  it('refuses a batch bigger than the router’s concurrency and a bad wait, naming the option', () => {
    const { Pinged, router } = setup(8);
    const refused = assertRefusedOption;
    refused(() => router.onBatch(Pinged, () => undefined, { maxSize: 9 }), 'maxSize');
    refused(() => router.onBatch(Pinged, () => undefined, { maxSize: 0 }), 'maxSize');
    refused(() => router.onBatch(Pinged, () => undefined, { maxWaitMs: -1 }), 'maxWaitMs');
    assert.match(
      (() => {
        try {
          router.onBatch(Pinged, () => undefined, { maxSize: 9 });
        } catch (error) {
          return (error as Error).message;
        }
        return '';
      })(),
      /raise createRouter\(\{ concurrency \}\)/,
    );
  });
});
