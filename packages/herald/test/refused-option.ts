import assert from 'node:assert/strict';
import { HeraldError } from '@herald/core';

/** Asserts that `fn` throws a `HERALD_CONFIG` error naming `option`. */
export function assertRefusedOption(fn: () => unknown, option: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof HeraldError, `a HeraldError, got ${String(error)}`);
    assert.equal(error.code, 'HERALD_CONFIG');
    assert.equal(error.details?.option, option);
    return true;
  });
}
