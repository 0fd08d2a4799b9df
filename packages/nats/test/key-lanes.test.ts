import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyLanes, type LaneItem } from '../src/key-lanes.ts';

const item = (key: string | undefined, seq: number, source = 'main'): LaneItem => ({
  id: `${source}:${seq}`,
  order: source === 'main' ? seq : Number.MAX_SAFE_INTEGER,
  key,
});

describe('KeyLanes', () => {
  it('delivers at once while the key has no parked record, and never holds unkeyed records', () => {
    const lanes = new KeyLanes();
    assert.equal(lanes.admit(item('a', 1)), true);
    lanes.park(item(undefined, 2), 0);
    assert.equal(lanes.admit(item(undefined, 3)), true);
    assert.equal(lanes.size, 0);
  });

  it('holds later records of a parked key, lets the parked record through, then drains in order', () => {
    const lanes = new KeyLanes();
    const first = item('k', 1);
    lanes.park(first, 1000);
    assert.equal(lanes.admit(item('k', 3)), false);
    assert.equal(lanes.admit(item('k', 2)), false, 'held records are kept in publish order');
    assert.equal(lanes.admit(item('other', 4)), true, 'other keys flow');
    assert.equal(lanes.admit(first), true, 'the redelivery of the parked record itself');
    assert.equal(lanes.settle(first), 'drain');
    const drained: string[] = [];
    for (;;) {
      const step = lanes.takeHeld('k');
      if (!('item' in step)) {
        assert.equal(step.stop, 'cleared');
        break;
      }
      drained.push(step.item.id);
    }
    assert.deepEqual(drained, ['main:2', 'main:3']);
    assert.equal(lanes.size, 0);
  });

  it('stops draining when a held record is parked in turn', () => {
    const lanes = new KeyLanes();
    const first = item('k', 1);
    const second = item('k', 2);
    lanes.park(first, 0);
    lanes.admit(second);
    lanes.admit(item('k', 3));
    assert.equal(lanes.settle(first), 'drain');
    const step = lanes.takeHeld('k');
    assert.ok('item' in step && step.item === second);
    lanes.park(second, 0);
    assert.deepEqual(lanes.takeHeld('k'), { stop: 'parked' });
    assert.equal(lanes.admit(item('k', 4)), false);
    assert.equal(lanes.settle(second), 'drain');
    assert.deepEqual(
      lanes.held().map((i) => i.id),
      ['main:3', 'main:4'],
    );
  });

  it('clears a key whose parked record is settled with nothing held', () => {
    const lanes = new KeyLanes();
    const first = item('k', 1);
    lanes.park(first, 0);
    assert.equal(lanes.settle(item('k', 9)), 'none', 'another record of the key changes nothing');
    assert.equal(lanes.settle(first), 'cleared');
    assert.equal(lanes.size, 0);
  });

  it('restores a park from an earlier owner and waits for that record', () => {
    const lanes = new KeyLanes();
    lanes.restore('k', 'main:5', 100);
    assert.equal(lanes.admit(item('k', 6)), false);
    assert.equal(lanes.admit(item('k', 5)), true);
    assert.equal(lanes.settle(item('k', 5)), 'drain');
  });

  it('puts replays after the records of the partition, in arrival order', () => {
    const lanes = new KeyLanes();
    lanes.park(item('k', 1), 0);
    lanes.admit(item('k', 7, 'replay'));
    lanes.admit(item('k', 3));
    lanes.admit(item('k', 2, 'replay'));
    assert.deepEqual(
      lanes.held().map((i) => i.id),
      ['main:3', 'replay:7', 'replay:2'],
    );
  });

  it('gives up on parked records long overdue, unless they are in flight', () => {
    const lanes = new KeyLanes();
    lanes.park(item('late', 1), 1000);
    lanes.park(item('busy', 2), 1000);
    lanes.park(item('soon', 3), 5000);
    lanes.admit(item('late', 4));
    assert.deepEqual(lanes.expire(7000, 2000, new Set(['main:2'])), ['late']);
    assert.deepEqual(lanes.unparkedKeys(), ['late']);
    assert.equal(lanes.forget('soon'), 'cleared');
  });
});
