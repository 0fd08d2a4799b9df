import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, checkBackoff } from '@herald/core';

describe('backoff', () => {
  const options = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };

  it('grows exponentially up to the cap', () => {
    const noJitter = { ...options, jitter: 0 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((a) => backoffDelay(noJitter, a)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });

  it('draws the jittered part at random within [base*(1-j), base]', () => {
    assert.equal(
      backoffDelay(options, 2, () => 0),
      100,
    );
    assert.equal(
      backoffDelay(options, 2, () => 1),
      200,
    );
  });

  it('rejects bad options with the option name', () => {
    assert.throws(() => checkBackoff({ initialMs: 10, maxMs: 5 }, 'retry.backoff'), /retry\.backoff\.maxMs/);
    assert.throws(() => checkBackoff({ initialMs: 1, maxMs: 5, jitter: 2 }, 'x'), /x\.jitter/);
  });
});
