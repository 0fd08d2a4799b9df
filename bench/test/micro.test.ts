import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measureMicro } from '../src/micro/measure.ts';
import { MICRO_PATHS, microInput, preparePath } from '../src/micro/paths.ts';
import { summarizeMicro } from '../src/micro/summary.ts';
import { expectedDeliveries, quickProblems, trialProblem } from '../src/quick-check.ts';
import type { TrialResult } from '../src/trial.ts';

describe('the micro-benchmark', () => {
  it('times every path in every repetition, warm-up first, each one checked', async () => {
    const trials = await measureMicro({ count: 200, warmCount: 50, reps: 2, warmup: true });
    assert.deepEqual(
      trials.map((t) => [t.rep, t.path, t.count]),
      [0, 1, 2].flatMap((rep) => MICRO_PATHS.map((path) => [rep, path, rep === 0 ? 50 : 200])),
    );
    for (const t of trials) {
      assert.equal(t.ok, true, t.error);
      assert.ok(t.wallNs > 0 && t.cpuNs >= 0 && t.backgroundCores >= 0);
    }
    const summaries = summarizeMicro(trials);
    assert.deepEqual(
      summaries.map((s) => [s.path, s.ok, s.runs, s.nsPerEvent.n, s.errors.length]),
      MICRO_PATHS.map((path) => [path, 2, 2, 2, 0]),
    );
    for (const s of summaries) {
      const t = trials.filter((x) => x.path === s.path && x.rep > 0);
      const perEvent = t.map((x) => x.wallNs / x.count);
      assert.equal(s.nsPerEvent.min, Math.min(...perEvent));
      assert.equal(s.nsPerEvent.max, Math.max(...perEvent));
      // The fastest repetition has the highest rate: events/s = 1e9 / ns per event, repetition by repetition.
      assert.ok(Math.abs(s.eventsPerSecond.max * s.nsPerEvent.min - 1e9) < 1e-3);
    }
  });

  it('runs no warm-up when told so', async () => {
    const trials = await measureMicro({ count: 20, warmCount: 10, reps: 1, warmup: false });
    assert.deepEqual(
      trials.map((t) => t.rep),
      MICRO_PATHS.map(() => 1),
    );
  });

  it('fails a dispatch repetition whose events were not all handled', async () => {
    const input = await microInput(10);
    // One record twice and one missing: an idempotent router acks the duplicate without handling it.
    const records = [...input.records.slice(0, 9), input.records[0]!];
    const prepared = await preparePath('dispatch-idempotent', { ...input, records });
    await prepared.run();
    await prepared.close();
    assert.match(prepared.check() ?? '', /handled 9 of 10; .*inbox recorded 9 of 10/);
  });
});

const trial = (over: Partial<TrialResult>): TrialResult => ({
  system: 'herald-d1',
  variant: 'single',
  mode: 'throughput',
  rep: 1,
  ok: true,
  count: 100,
  throughput: 5000,
  published: 100,
  delivered: 100,
  duplicates: 0,
  cpuSeconds: { producer: 0.1, consumers: 0.1, broker: 0 },
  cpuSecondsPerMillion: 2000,
  peakRssMb: { producer: 50, consumers: 50, broker: 0 },
  peakRssMbTotal: 100,
  backgroundCores: 0,
  ...over,
});

describe('the quick run checks', () => {
  it('expects every event once per group, and no delivery for a producer alone', () => {
    assert.equal(expectedDeliveries(trial({ variant: 'groups' })), 200);
    assert.equal(expectedDeliveries(trial({ variant: 'competing' })), 100);
    assert.equal(expectedDeliveries(trial({ mode: 'publish-batch' })), 0);
    assert.equal(expectedDeliveries(trial({ mode: 'consume' })), 100);
  });

  it('passes a sane trial, duplicates aside', () => {
    assert.equal(trialProblem(trial({})), undefined);
    assert.equal(trialProblem(trial({ delivered: 103, duplicates: 3 })), undefined);
    assert.equal(trialProblem(trial({ mode: 'publish-one', delivered: 0 })), undefined);
    assert.equal(trialProblem(trial({ mode: 'consume', published: 0 })), undefined);
  });

  it('names what is wrong: a failure, unacknowledged publishes, lost events', () => {
    assert.match(trialProblem(trial({ ok: false, error: 'timed out\nstack' })) ?? '', /failed: timed out$/);
    assert.match(trialProblem(trial({ published: 90 })) ?? '', /published 90 of 100/);
    assert.match(trialProblem(trial({ published: undefined })) ?? '', /published an unknown number/);
    assert.match(
      trialProblem(trial({ variant: 'groups' })) ?? '',
      /counted 100 distinct deliveries, expected 200/,
    );
    assert.match(trialProblem(trial({ throughput: Number.NaN })) ?? '', /throughput NaN/);
  });

  it('checks a suite by its trials, and fails one that ran none', () => {
    assert.deepEqual(quickProblems('b1', { trials: [trial({}), trial({ published: 1 })] }), [
      'b1: herald-d1 single throughput rep 1: published 1 of 100',
    ]);
    assert.deepEqual(quickProblems('b3', { trials: [] }), ['b3: no trial ran']);
    assert.deepEqual(
      quickProblems('micro', {
        trials: [
          { path: 'publish', rep: 1, count: 5, ok: false, error: 'published 4 of 5', wallNs: 1, cpuNs: 1 },
        ],
      }),
      ['micro: publish rep 1: published 4 of 5'],
    );
  });
});
