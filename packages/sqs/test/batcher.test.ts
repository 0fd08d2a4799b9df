import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batcher } from '../src/batcher.ts';

describe('Batcher', () => {
  it('sends what is added in one turn as one request, at most `max` entries each', async () => {
    const requests: number[][] = [];
    const batcher = new Batcher<number>((items) => {
      requests.push(items);
      return Promise.resolve(items.map(() => undefined));
    }, 10);
    await Promise.all(Array.from({ length: 23 }, (_, i) => batcher.add(i)));
    assert.deepEqual(
      requests.map((r) => r.length),
      [10, 10, 3],
    );
    assert.deepEqual(
      requests.flat(),
      Array.from({ length: 23 }, (_, i) => i),
    );
  });

  it('fails only the entries the batch answer says failed, and every entry when the request fails', async () => {
    let fail = false;
    const batcher = new Batcher<number>((items) => {
      if (fail) return Promise.reject(new Error('network'));
      return Promise.resolve(items.map((n) => (n % 2 === 0 ? undefined : new Error(`entry ${n}`))));
    });
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => batcher.add(n)));
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'fulfilled', 'rejected', 'fulfilled'],
    );
    fail = true;
    await assert.rejects(batcher.add(6), /network/);
  });

  it('drains: resolves once everything added has been answered', async () => {
    let answered = 0;
    const batcher = new Batcher<number>(async (items) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      answered += items.length;
      return items.map(() => undefined);
    });
    const pending = [batcher.add(1), batcher.add(2)];
    await batcher.drain();
    assert.equal(answered, 2);
    await Promise.all(pending);
  });
});
