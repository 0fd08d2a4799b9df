import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TransportRecord } from '@herald/core';
import { encodeRecord } from '../src/message-binding.ts';
import { fifoFields, MAX_SNS_PAYLOAD, planBatches } from '../src/sns-publisher.ts';

function record(key: string | undefined, id: string | undefined, size = 10): TransportRecord {
  return {
    topic: 'orders',
    key,
    attributes: { specversion: '1.0', source: '/s', type: 'T', ...(id === undefined ? {} : { id }) },
    data: new TextEncoder().encode('x'.repeat(size)),
  };
}

describe('planBatches', () => {
  it('keeps order and puts at most 10 messages, and 256 KiB, in a batch', () => {
    const small = Array.from({ length: 25 }, (_, i) => encodeRecord(record('k', String(i))));
    assert.deepEqual(
      planBatches(small).map((b) => b.length),
      [10, 10, 5],
    );
    assert.deepEqual(
      planBatches(small).flat(),
      Array.from({ length: 25 }, (_, i) => i),
    );
    const big = Array.from({ length: 4 }, (_, i) => encodeRecord(record('k', String(i), 100_000)));
    const batches = planBatches(big);
    assert.deepEqual(batches, [
      [0, 1],
      [2, 3],
    ]);
    assert.ok(MAX_SNS_PAYLOAD >= 200_000);
  });
});

describe('fifoFields', () => {
  it('groups by key and deduplicates by event id', () => {
    assert.deepEqual(fifoFields(record('order-1', 'evt-1')), {
      MessageGroupId: 'order-1',
      MessageDeduplicationId: 'evt-1',
    });
  });

  it('gives a keyless record a group of its own, and an id-less one a content hash', () => {
    const a = fifoFields(record(undefined, 'evt-1'));
    const b = fifoFields(record(undefined, 'evt-2'));
    assert.notEqual(a.MessageGroupId, b.MessageGroupId);
    const anonymous = fifoFields(record('k', undefined));
    assert.match(anonymous.MessageDeduplicationId, /^[0-9a-f]{64}$/);
    assert.equal(fifoFields(record('k', undefined)).MessageDeduplicationId, anonymous.MessageDeduplicationId);
  });
});
