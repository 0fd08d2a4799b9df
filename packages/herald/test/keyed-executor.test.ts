import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeraldError, KeyedExecutor } from '@herald/core';
import { delay } from '@herald/core/testing';

describe('KeyedExecutor', () => {
  it('runs one key in order and different keys in parallel, within the limit', async () => {
    const executor = new KeyedExecutor(3);
    const order: string[] = [];
    let running = 0;
    let maxRunning = 0;
    for (let i = 0; i < 5; i++) {
      for (const key of ['a', 'b', 'c', 'd']) {
        await executor.submit(key, async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await delay(1);
          order.push(`${key}${i}`);
          running--;
        });
      }
    }
    await executor.idle();
    for (const key of ['a', 'b', 'c', 'd']) {
      assert.deepEqual(
        order.filter((o) => o.startsWith(key)),
        [0, 1, 2, 3, 4].map((i) => `${key}${i}`),
      );
    }
    assert.equal(maxRunning, 3);
  });

  it('applies back-pressure: submit waits while maxPending tasks are pending', async () => {
    const executor = new KeyedExecutor(1, { maxPending: 2 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await executor.submit('a', () => gate);
    await executor.submit('a', () => Promise.resolve());
    let accepted = false;
    const third = executor.submit('a', () => Promise.resolve()).then(() => (accepted = true));
    await delay(5);
    assert.equal(accepted, false);
    release();
    await third;
    await executor.idle();
    assert.equal(executor.pending, 0);
  });

  it('reports task errors and keeps going', async () => {
    const errors: unknown[] = [];
    const executor = new KeyedExecutor(1, { onError: (e) => errors.push(e) });
    let ran = false;
    await executor.submit('a', () => Promise.reject(new Error('boom')));
    await executor.submit('a', () => {
      ran = true;
      return Promise.resolve();
    });
    await executor.idle();
    assert.equal(errors.length, 1);
    assert.ok(ran);
  });

  it('rejects a bad concurrency at construction', () => {
    assert.throws(
      () => new KeyedExecutor(0),
      (e: unknown) => e instanceof HeraldError && e.code === 'HERALD_CONFIG',
    );
  });
});
