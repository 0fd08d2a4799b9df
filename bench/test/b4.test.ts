import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Transport, TransportRecord } from '@herald/core';
import { CoalescingPublisher } from '../src/b4/coalescing-publisher.ts';
import { b4Figures } from '../src/b4/figures.ts';
import type { PhaseDone } from '../src/b4/protocol.ts';
import { fromPayload, orderRecord, seqOf, toPayload } from '../src/b4/record.ts';
import { b4Schemas, queueTable } from '../src/b4/tables.ts';
import type { B4TrialResult } from '../src/b4/trial.ts';
import { b4Problems, quickProblems } from '../src/quick-check.ts';
import { b4Goals } from '../src/report-b4.ts';

const phase = (over: Partial<PhaseDone>): PhaseDone => ({
  type: 'phase-done',
  phase: 'throughput',
  committed: 0,
  firstUs: 0,
  lastUs: 0,
  commitUs: [],
  ...over,
});

describe('B4: the figures of a trial', () => {
  it('throughput over the first BEGIN to the last inbox commit; latency from commit to handler entry', () => {
    // Throughput phase: seq 0..3, first BEGIN at 1,000 µs, last inbox commit at 1,001,000 µs: 4 tx in 1 s.
    const t = phase({ committed: 4, firstUs: 1000, lastUs: 9000, commitUs: [2000, 3000, 4000, 5000] });
    // Latency phase: seq 4..6, committed at 2 s, 2.01 s and 2.02 s.
    const l = phase({
      phase: 'latency',
      committed: 3,
      firstUs: 1_999_000,
      lastUs: 2_021_000,
      commitUs: [2_000_000, 2_010_000, 2_020_000],
    });
    const entryUs = [1, 2, 3, 4, 2_001_000, 2_013_000, 2_030_000];
    const doneUs = [10_000, 20_000, 1_001_000, 30_000, 2_002_000, 2_014_000, 2_031_000];
    const f = b4Figures(t, l, { entryUs, doneUs });
    assert.equal(f.throughput, 4);
    assert.deepEqual([f.committed, f.handled, f.lost], [7, 7, 0]);
    assert.deepEqual([f.latency.p50, f.latency.p99, f.latency.max, f.latency.n], [3, 10, 10, 3]);
    assert.equal(f.offeredRate, 3 / 0.022);
  });

  it('counts committed transactions never handled as lost, and skips those never committed', () => {
    const t = phase({ committed: 2, firstUs: 0, commitUs: [100, 200, -1] });
    const l = phase({ phase: 'latency', committed: 1, firstUs: 0, lastUs: 1000, commitUs: [1000] });
    const f = b4Figures(t, l, { entryUs: [500, -1, -1, 1500], doneUs: [600, -1, -1, -1] });
    assert.deepEqual([f.committed, f.handled, f.lost], [3, 1, 2]);
    assert.equal(f.latency.n, 0);
    assert.ok(Number.isNaN(f.latency.p50));
  });
});

const trial = (system: string, rep: number, over: Partial<B4TrialResult> = {}): B4TrialResult => ({
  system: system as B4TrialResult['system'],
  rep,
  ok: true,
  count: 100,
  rate: 50,
  latencyCount: 50,
  throughput: 500,
  latency: { p50: 2, p99: 10, p999: 12, max: 12, n: 50 },
  offeredRate: 50,
  committed: 150,
  handled: 150,
  lost: 0,
  duplicates: 0,
  table: { name: 't', start: { rows: 0, bytes: 8192 }, end: { rows: 0, bytes: 16384 } },
  relay: { publishCalls: 10, published: 150, errors: 0 },
  ...over,
});

describe('B4: goals and quick checks', () => {
  it('compares Herald with the best peer of each repetition, and states the latency and table goals', () => {
    const trials = [
      trial('herald-outbox', 1, { throughput: 600 }),
      trial('bare-skip-locked', 1, { throughput: 500 }),
      trial('graphile-worker', 1, { throughput: 400 }),
      trial('herald-outbox', 2, { throughput: 450, latency: { p50: 6, p99: 30, p999: 40, max: 40, n: 50 } }),
      trial('bare-skip-locked', 2, { throughput: 300 }),
      trial('graphile-worker', 2, { throughput: 500 }),
    ];
    const goals = b4Goals('herald-outbox', ['bare-skip-locked', 'graphile-worker'], trials);
    const best = goals[0]!;
    // Repetition 1: 600 / 500 (bare); repetition 2: 450 / 500 (graphile-worker).
    assert.deepEqual([best.value.min, best.value.max, best.value.median], [0.9, 1.2, 1.05]);
    assert.equal(best.met, true);
    assert.deepEqual(
      goals.slice(1, 3).map((g) => [g.title, g.value.median, g.met]),
      [
        ['throughput, Herald / bare-skip-locked', 1.35, undefined],
        ['throughput, Herald / graphile-worker', 1.2, undefined],
      ],
    );
    const [p50, p99, rows] = goals.slice(3);
    assert.deepEqual([p50!.value.median, p50!.met], [4, true]);
    assert.deepEqual([p99!.value.median, p99!.met], [20, true]);
    assert.deepEqual([rows!.value.median, rows!.met], [0, true]);
  });

  it('fails the table goal when any trial left rows behind, whatever the median', () => {
    const grew = { name: 't', start: { rows: 0, bytes: 0 }, end: { rows: 3, bytes: 0 } };
    const goals = b4Goals(
      'herald-outbox',
      [],
      [trial('herald-outbox', 1), trial('herald-outbox', 2), trial('herald-outbox', 3, { table: grew })],
    );
    const rows = goals.at(-1)!;
    assert.deepEqual([rows.value.median, rows.met], [3, false]);
  });

  it('flags lost events, table growth, relay failures and missing commits in a quick run', () => {
    assert.deepEqual(b4Problems(trial('herald-outbox', 1)), []);
    const grew = { name: '"s".outbox', start: { rows: 0, bytes: 0 }, end: { rows: 2, bytes: 0 } };
    assert.deepEqual(
      b4Problems(
        trial('herald-outbox', 1, {
          committed: 149,
          lost: 1,
          table: grew,
          relay: { publishCalls: 1, published: 1, errors: 2 },
        }),
      ),
      [
        'herald-outbox rep 1: committed 149 of 150',
        'herald-outbox rep 1: 1 committed transaction(s) never handled (lost events)',
        'herald-outbox rep 1: the relay reported 2 failure(s)',
        'herald-outbox rep 1: table growth: "s".outbox went from 0 to 2 rows',
      ],
    );
    assert.deepEqual(
      quickProblems('b4', { trials: [trial('bare-skip-locked', 1, { ok: false, error: 'boom\nat x' })] }),
      ['b4: bare-skip-locked rep 1: failed: boom'],
    );
  });
});

describe('B4: records and tables', () => {
  it('carries the sequence number in the event, and survives the JSON job payload', () => {
    const record = orderRecord(42);
    assert.equal(seqOf(record), 42);
    const back = fromPayload(JSON.parse(JSON.stringify(toPayload(record))) as ReturnType<typeof toPayload>);
    assert.deepEqual(
      { ...back, data: Buffer.from(back.data) },
      { ...record, data: Buffer.from(record.data) },
    );
  });

  it('names schemas after the run, as PostgreSQL identifiers', () => {
    const schemas = b4Schemas('mx8e1paz4b85eb', 'graphile-worker');
    assert.deepEqual(schemas, { app: 'bench_b4_mx8e1paz4b85eb_gw', jobs: 'bench_b4_mx8e1paz4b85eb_gw_jobs' });
    assert.equal(queueTable('graphile-worker', schemas), '"bench_b4_mx8e1paz4b85eb_gw_jobs"._private_jobs');
    assert.equal(
      queueTable('herald-outbox', b4Schemas('r1', 'herald-outbox')),
      '"bench_b4_r1_herald".outbox',
    );
  });
});

describe('B4: the coalescing publisher', () => {
  const recorder = (fail = false) => {
    const calls: TransportRecord[][] = [];
    const transport: Pick<Transport, 'publish'> = {
      publish: (records) => {
        calls.push([...records]);
        return fail ? Promise.reject(new Error('broker down')) : Promise.resolve([]);
      },
    };
    return { calls, transport };
  };

  it('publishes the records of one event-loop turn in one call, in order', async () => {
    const { calls, transport } = recorder();
    const publisher = new CoalescingPublisher(transport);
    await Promise.all([0, 1, 2].map((seq) => publisher.publish(orderRecord(seq))));
    await publisher.publish(orderRecord(3));
    assert.deepEqual(
      calls.map((batch) => batch.map(seqOf)),
      [[0, 1, 2], [3]],
    );
    assert.deepEqual([publisher.calls, publisher.published], [2, 4]);
  });

  it("rejects every record of a failed call with that call's error", async () => {
    const { transport } = recorder(true);
    const publisher = new CoalescingPublisher(transport);
    const results = await Promise.allSettled([
      publisher.publish(orderRecord(0)),
      publisher.publish(orderRecord(1)),
    ]);
    assert.deepEqual(
      results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok')),
      ['broker down', 'broker down'],
    );
    assert.equal(publisher.published, 0);
  });
});
