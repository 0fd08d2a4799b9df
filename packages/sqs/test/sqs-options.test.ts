import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveOptions } from '../src/sqs-options.ts';

describe('sqs options', () => {
  it('shows a refused endpoint with its password masked', () => {
    assert.throws(
      () => resolveOptions({ endpoint: 'ftp://app:secretpw@127.0.0.1:4566' }),
      (error: { code?: string; message: string; details?: unknown }) => {
        assert.equal(error.code, 'HERALD_CONFIG');
        assert.match(error.message, /"endpoint".*app:\*\*\*@127\.0\.0\.1/);
        assert.doesNotMatch(`${error.message} ${JSON.stringify(error.details)}`, /secretpw/);
        return true;
      },
    );
  });
});
