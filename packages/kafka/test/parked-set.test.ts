import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { originKey, type Origin } from '../src/envelopes.ts';
import { laneOf, ParkedSet, type ParkedEntry } from '../src/parked-set.ts';

function entry(
  key: string | undefined,
  offset: number,
  retryOffset: number,
  options: { dueAt?: number; attempt?: number; readBack?: boolean } = {},
): ParkedEntry {
  const origin: Origin = { topic: 'orders', partition: 0, offset: BigInt(offset) };
  return {
    origin,
    originKey: originKey(origin),
    lane: laneOf('orders', key),
    record: { topic: 'orders', key, attributes: {}, data: new Uint8Array() },
    attempt: options.attempt ?? 2,
    dueAt: options.dueAt ?? 0,
    retryOffset: BigInt(retryOffset),
    readBack: options.readBack ?? true,
    inFlight: false,
  };
}

const offsets = (list: ParkedEntry[]): number[] => list.map((e) => Number(e.origin.offset));

describe('ParkedSet (delayed redelivery scheduling)', () => {
  it('redelivers only the head of each key, once due, while other keys flow', () => {
    const set = new ParkedSet();
    set.read(entry('slow', 10, 0, { dueAt: 1000 }));
    set.read(entry('slow', 11, 1, { dueAt: 0 })); // parked behind: due, but not the head
    set.read(entry('fast', 12, 2, { dueAt: 0 }));
    const first = set.takeDue(500);
    assert.deepEqual(offsets(first.ready), [12]);
    assert.equal(first.nextDueAt, 1000);
    const second = set.takeDue(1000);
    assert.deepEqual(offsets(second.ready), [10]);
    assert.deepEqual(offsets(set.takeDue(2000).ready), [], 'the head is in flight: the key waits');
    set.settle(second.ready[0]!);
    assert.deepEqual(offsets(set.takeDue(2000).ready), [11], 'then the next record of the key');
  });

  it('orders a key by origin offset, not by arrival in the retry topic', () => {
    const set = new ParkedSet();
    set.read(entry('k', 20, 0));
    set.read(entry('k', 15, 1)); // e.g. a replayed dead letter of an older record
    assert.deepEqual(offsets(set.takeDue(0).ready), [15]);
  });

  it('delivers unkeyed records independently', () => {
    const set = new ParkedSet();
    set.read(entry(undefined, 1, 0, { dueAt: 50 }));
    set.read(entry(undefined, 2, 1, { dueAt: 0 }));
    assert.deepEqual(offsets(set.takeDue(10).ready), [2]);
    assert.equal(set.isLaneParked(undefined), false);
  });

  it('reports parked lanes, so new records of the key park behind', () => {
    const set = new ParkedSet();
    const parked = entry('k', 1, 0);
    set.read(parked);
    assert.ok(set.isLaneParked(laneOf('orders', 'k')));
    assert.ok(!set.isLaneParked(laneOf('orders', 'other')));
    assert.ok(!set.isLaneParked(laneOf('payments', 'k')), 'lanes are per topic');
    set.settle(set.takeDue(0).ready[0]!);
    assert.ok(!set.isLaneParked(laneOf('orders', 'k')));
  });

  it('waits for a produced copy to be read back before delivering it', () => {
    const set = new ParkedSet();
    set.produced(entry('k', 1, 7, { readBack: false }));
    assert.ok(set.isLaneParked(laneOf('orders', 'k')), 'the key is parked at once');
    assert.deepEqual(set.takeDue(0).ready, []);
    assert.equal(set.read(entry('k', 1, 7)).kind, 'parked');
    assert.deepEqual(offsets(set.takeDue(0).ready), [1]);
  });

  it('keeps one entry when the fetch reads a copy before its produce is acknowledged', () => {
    const set = new ParkedSet();
    assert.equal(set.read(entry('k', 1, 7)).kind, 'parked');
    set.produced(entry('k', 1, 7, { readBack: false }));
    assert.equal(set.size, 1);
    assert.equal(set.takeDue(0).ready.length, 1);
  });

  it('replaces a rescheduled entry with its new copy', () => {
    const set = new ParkedSet();
    set.read(entry('k', 1, 0, { attempt: 2 }));
    const [head] = set.takeDue(0).ready;
    const finish = set.reschedule(head!, entry('k', 1, 5, { attempt: 3, dueAt: 100, readBack: false }));
    assert.deepEqual(finish, []);
    assert.deepEqual(set.takeDue(1000).ready, [], 'the new copy is not read back yet');
    set.read(entry('k', 1, 5, { attempt: 3, dueAt: 100 }));
    const [again] = set.takeDue(1000).ready;
    assert.equal(again!.attempt, 3);
    assert.equal(again!.retryOffset, 5n);
  });

  it('adopts the new copy when the fetch read it while the old one was in flight', () => {
    const set = new ParkedSet();
    set.read(entry('k', 1, 0));
    const [head] = set.takeDue(0).ready;
    assert.equal(set.read(entry('k', 1, 5, { attempt: 3 })).kind, 'held');
    const finish = set.reschedule(head!, entry('k', 1, 5, { attempt: 3, readBack: false }));
    assert.deepEqual(finish, []);
    assert.equal(set.takeDue(0).ready[0]!.retryOffset, 5n, 'adopted: already read back');
  });

  it('finishes copies held during a delivery that then settled', () => {
    const set = new ParkedSet();
    set.read(entry('k', 1, 0));
    const [head] = set.takeDue(0).ready;
    set.read(entry('k', 1, 3)); // a copy another member appended during a rebalance
    assert.deepEqual(set.settle(head!), [3n]);
    assert.equal(set.size, 0);
  });

  it('finishes an older copy read after a newer one (stale), and replaces an idle older entry', () => {
    const set = new ParkedSet();
    set.produced(entry('k', 1, 9, { readBack: false }));
    assert.equal(set.read(entry('k', 1, 4)).kind, 'stale');
    const fresh = new ParkedSet();
    fresh.read(entry('k', 1, 4, { attempt: 2 }));
    const outcome = fresh.read(entry('k', 1, 9, { attempt: 3 }));
    assert.equal(outcome.kind, 'replaced');
    assert.equal(outcome.kind === 'replaced' ? outcome.finish : undefined, 4n);
    assert.equal(fresh.takeDue(0).ready[0]!.attempt, 3);
  });

  it('counts entries read back, for the memory bound', () => {
    const set = new ParkedSet();
    set.produced(entry('a', 1, 1, { readBack: false }));
    set.read(entry('b', 2, 2));
    assert.equal(set.size, 2);
    assert.equal(set.readBackCount, 1);
    set.read(entry('a', 1, 1));
    assert.equal(set.readBackCount, 2);
    set.clear();
    assert.equal(set.size, 0);
    assert.equal(set.readBackCount, 0);
  });
});
