import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OrderCheck } from '../src/lanes/order-check.ts';
import { lanesSystems } from '../src/lanes/systems.ts';
import type { LanesTrialResult } from '../src/lanes/trial.ts';
import { laneEvent, laneRecord, UNORDERED_LOGICAL_KEYS, workMs } from '../src/lanes/workload.ts';
import { lanesProblems, quickProblems } from '../src/quick-check.ts';
import { lanesGoals, summarizeLanes } from '../src/report-lanes.ts';

describe('lanes: the order check', () => {
  it('accepts each key in sequence, keys independent of each other', () => {
    const check = new OrderCheck();
    const verdicts = [
      check.accept('a', 0),
      check.accept('b', 0),
      check.accept('a', 1),
      check.accept('b', 1),
      check.accept('a', 2),
    ];
    assert.deepEqual(verdicts, ['in-order', 'in-order', 'in-order', 'in-order', 'in-order']);
    assert.deepEqual([check.distinct, check.violations, check.duplicates], [5, 0, 0]);
  });

  it('counts an event handled after a later event of its key, once per such event', () => {
    const check = new OrderCheck();
    assert.equal(check.accept('a', 2), 'in-order');
    assert.equal(check.accept('a', 0), 'out-of-order');
    assert.equal(check.accept('a', 1), 'out-of-order');
    assert.equal(check.accept('a', 3), 'in-order');
    assert.equal(check.accept('b', 1), 'in-order');
    assert.equal(check.accept('b', 0), 'out-of-order');
    assert.deepEqual([check.distinct, check.violations, check.duplicates], [6, 3, 0]);
  });

  it('counts a redelivery as a duplicate, never as a violation', () => {
    const check = new OrderCheck();
    check.accept('a', 0);
    check.accept('a', 1);
    assert.equal(check.accept('a', 0), 'duplicate');
    assert.equal(check.accept('a', 1), 'duplicate');
    assert.deepEqual([check.distinct, check.violations, check.duplicates], [2, 0, 2]);
  });
});

describe('lanes: the workload', () => {
  it('numbers events per key in publish order, over the given keys or none', () => {
    assert.deepEqual(laneEvent(0, 10), { key: 'k0', seq: 0, i: 0 });
    assert.deepEqual(laneEvent(23, 10), { key: 'k3', seq: 2, i: 23 });
    assert.deepEqual(laneEvent(1234, 1000), { key: 'k234', seq: 1, i: 1234 });
    assert.equal(laneRecord(23, 10).key, 'k3');
    // Unordered: no transport key, but a logical key the check still follows.
    assert.equal(laneRecord(23, 0).key, undefined);
    assert.deepEqual(laneEvent(23, 0).key, `k${23 % UNORDERED_LOGICAL_KEYS}`);
  });

  it('waits 1 or 2 ms per event, both often', () => {
    const waits = Array.from({ length: 1000 }, (_, i) => workMs(i));
    assert.ok(waits.every((w) => w === 1 || w === 2));
    const twos = waits.filter((w) => w === 2).length;
    assert.ok(twos > 400 && twos < 600, `${twos} of 1000 waits were 2 ms`);
  });

  it('runs the unordered system first, then 10, 100 and 1,000 keys, per transport', () => {
    assert.deepEqual(
      lanesSystems(['sqlite', 'memory']).map((s) => s.id),
      [
        'sqlite-unordered',
        'sqlite-keys-10',
        'sqlite-keys-100',
        'sqlite-keys-1000',
        'memory-unordered',
        'memory-keys-10',
        'memory-keys-100',
        'memory-keys-1000',
      ],
    );
  });
});

const trial = (keys: number, rep: number, over: Partial<LanesTrialResult> = {}): LanesTrialResult => ({
  system: keys === 0 ? 'sqlite-unordered' : `sqlite-keys-${keys}`,
  transport: 'sqlite',
  keys,
  rep,
  ok: true,
  count: 100,
  throughput: 1000,
  distinct: 100,
  duplicates: 0,
  violations: 0,
  lost: 0,
  ...over,
});

describe('lanes: goals and quick checks', () => {
  it('takes each keyed/unordered ratio within a repetition and judges 1,000 keys against 0.8×', () => {
    const goals = lanesGoals([
      trial(0, 1, { throughput: 1000 }),
      trial(10, 1, { throughput: 200 }),
      trial(1000, 1, { throughput: 900 }),
      trial(0, 2, { throughput: 2000 }),
      trial(10, 2, { throughput: 300 }),
      trial(1000, 2, { throughput: 1400 }),
    ]);
    const byTitle = new Map(goals.map((g) => [g.title, g]));
    const tenKeys = byTitle.get('sqlite: 10 keys / unordered, events/s')!;
    assert.deepEqual(
      [tenKeys.value.min, tenKeys.value.max, tenKeys.goal, tenKeys.met],
      [0.15, 0.2, undefined, undefined],
    );
    const thousand = byTitle.get('sqlite: 1,000 keys / unordered, events/s')!;
    assert.deepEqual([thousand.value.min, thousand.value.max], [0.7, 0.9]);
    assert.equal(thousand.value.median, 0.8);
    assert.equal(thousand.met, true);
    const order = byTitle.get('sqlite: order violations, every keyed trial')!;
    assert.deepEqual([order.value.median, order.met], [0, true]);
  });

  it('fails the goals on a slow 1,000-key run and on any violation of a keyed trial, not of the unordered one', () => {
    const goals = lanesGoals([
      trial(0, 1, { throughput: 1000, violations: 40 }),
      trial(1000, 1, { throughput: 700, violations: 1 }),
    ]);
    assert.deepEqual(
      goals.map((g) => [g.kind, g.value.median, g.met]),
      [
        ['ratio', 0.7, false],
        ['violations', 1, false],
      ],
    );
    assert.equal(
      summarizeLanes(lanesSystems(['sqlite']), [trial(0, 1, { violations: 40 })])[0]!.violations,
      40,
    );
  });

  it('flags lost events and violations of keyed trials in a quick run', () => {
    assert.deepEqual(lanesProblems(trial(0, 1, { violations: 40 })), []);
    assert.deepEqual(lanesProblems(trial(100, 1, { violations: 2 })), [
      'sqlite-keys-100 rep 1: 2 order violation(s)',
    ]);
    assert.deepEqual(lanesProblems(trial(10, 1, { distinct: 99, lost: 1 })), [
      'sqlite-keys-10 rep 1: handled 99 of 100 events (lost events)',
    ]);
    assert.match(
      lanesProblems(trial(10, 1, { ok: false, error: 'timed out\nstack' }))[0]!,
      /failed: timed out$/,
    );
    assert.deepEqual(quickProblems('lanes', { trials: [trial(10, 1), trial(1000, 1, { violations: 1 })] }), [
      'lanes: sqlite-keys-1000 rep 1: 1 order violation(s)',
    ]);
    assert.deepEqual(quickProblems('lanes', { trials: [] }), ['lanes: no trial ran']);
  });
});
