import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOptions, QUICK, SUITES } from '../src/options.ts';

describe('npm run bench: options', () => {
  it('runs every suite, micro included, with the full-size defaults and a warm-up', () => {
    const o = parseOptions([], {});
    assert.deepEqual(o.suites, SUITES);
    assert.ok(o.suites.includes('micro'));
    assert.equal(o.quick, false);
    assert.equal(o.warmup, true);
    assert.equal(o.count, undefined);
    assert.deepEqual([o.reps, o.rate, o.seconds, o.timeoutS], [5, 1000, 5, 180]);
  });

  it('--quick sets tiny counts, one repetition and no warm-up', () => {
    const o = parseOptions(['--quick'], {});
    assert.equal(o.quick, true);
    assert.equal(o.warmup, false);
    assert.deepEqual(o.suites, SUITES);
    assert.deepEqual(
      [o.count, o.reps, o.rate, o.seconds, o.timeoutS],
      [QUICK.count, QUICK.reps, QUICK.rate, QUICK.seconds, QUICK.timeoutS],
    );
  });

  it('flags and BENCH_* variables win over --quick, wherever --quick stands', () => {
    const before = parseOptions(['--quick', '--count', '300', '--seconds', '2'], { BENCH_REPS: '2' });
    const after = parseOptions(['--count', '300', '--seconds', '2', '--quick'], { BENCH_REPS: '2' });
    for (const o of [before, after]) {
      assert.deepEqual([o.count, o.reps, o.seconds, o.rate], [300, 2, 2, QUICK.rate]);
      assert.equal(o.warmup, false);
    }
  });

  it('--suite micro selects the micro-benchmark alone', () => {
    assert.deepEqual(parseOptions(['--suite', 'micro'], {}).suites, ['micro']);
    assert.deepEqual(parseOptions(['--suite', 'micro,b1'], {}).suites, ['b1', 'micro']);
  });

  it('--suite b4,lanes selects the outbox and lanes suites, in page order', () => {
    assert.deepEqual(parseOptions(['--suite', 'lanes,b4'], {}).suites, ['b4', 'lanes']);
    assert.throws(
      () => parseOptions(['--suite', 'b7'], {}),
      /--suite accepts b1, b2, b3, b4, b5, b6, lanes, micro/,
    );
  });

  it('refuses --quick with --docs-only, which would rebuild the real page from scratch results', () => {
    assert.throws(() => parseOptions(['--quick', '--docs-only'], {}), /--quick and --docs-only/);
  });
});
