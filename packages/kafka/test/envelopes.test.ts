import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deadLetterControl,
  originKey,
  parseDeadLetterControl,
  parseResolutionControl,
  parseRetryControl,
  resolutionControl,
  retryControl,
} from '../src/envelopes.ts';

describe('envelopes', () => {
  const origin = { topic: 'orders', partition: 3, offset: 9_007_199_254_740_993n };

  it('round-trips a retry envelope, 64-bit offsets included', () => {
    const envelope = { group: 'payments', origin, attempt: 4, dueAt: 1_700_000_000_123 };
    assert.deepEqual(parseRetryControl(retryControl(envelope)), envelope);
  });

  it('rejects malformed retry control values', () => {
    const good = retryControl({ group: 'g', origin, attempt: 2, dueAt: 5 });
    assert.equal(parseRetryControl({}), undefined);
    assert.equal(parseRetryControl({ ...good, attempt: '0' }), undefined);
    assert.equal(parseRetryControl({ ...good, 'origin-offset': '-1' }), undefined);
    assert.equal(parseRetryControl({ ...good, 'due-at': 'soon' }), undefined);
  });

  it('round-trips a dead-letter envelope', () => {
    const envelope = {
      group: 'payments',
      origin,
      failure: {
        error: { name: 'Error', message: 'boom', stack: 'Error: boom' },
        attempts: 5,
        reason: 'max-attempts',
      },
      deadLetteredAt: '2026-01-01T00:00:00.000Z',
    };
    assert.deepEqual(parseDeadLetterControl(deadLetterControl(envelope)), envelope);
    assert.equal(parseDeadLetterControl({ ...deadLetterControl(envelope), failure: '{' }), undefined);
  });

  it('round-trips resolution markers', () => {
    assert.deepEqual(parseResolutionControl(resolutionControl(12n, 'replayed')), {
      offset: 12n,
      resolution: 'replayed',
    });
    assert.equal(parseResolutionControl({ resolves: '1', resolution: 'lost' }), undefined);
  });

  it('keys origins uniquely', () => {
    assert.notEqual(
      originKey({ topic: 'a', partition: 1, offset: 2n }),
      originKey({ topic: 'a', partition: 12, offset: 2n }),
    );
  });
});
