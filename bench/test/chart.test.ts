import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headlineBars, type HeadlineBar } from '../src/chart/headline.ts';
import { axisRange, ratioChartSvg } from '../src/chart/svg.ts';
import type { SuiteId } from '../src/options.ts';

const spread = (median: number, min: number, max: number) => ({ median, min, max, n: 3 });
const summary = (system: string, mode: string, throughput: number) => ({
  system,
  variant: 'single',
  mode,
  throughput: spread(throughput, throughput, throughput),
});

/** Results shaped like bench/results/*.json, reduced to what the chart reads. */
const FIXTURE = new Map<SuiteId, Record<string, unknown>>([
  [
    'b1',
    {
      env: { date: '2026-11-27T00:18:06.325Z' },
      summaries: [
        summary('sqlite-raw-d1', 'throughput', 90_000),
        summary('bullmq', 'throughput', 6_000),
        summary('jetstream', 'throughput', 9_000),
        summary('herald-d1', 'throughput', 80_000),
        summary('herald-d2', 'throughput', 50_000),
      ],
      ratios: [
        {
          title: 'Herald D1 / BullMQ',
          numerator: 'herald-d1',
          denominator: 'bullmq',
          variant: 'single',
          mode: 'throughput',
          value: spread(13, 10, 15),
          goal: 1,
        },
        {
          title: 'Herald D1 / raw ceiling D1',
          numerator: 'herald-d1',
          denominator: 'sqlite-raw-d1',
          variant: 'single',
          mode: 'throughput',
          value: spread(0.88, 0.34, 1.27),
          goal: 0.5,
        },
        {
          title: 'Herald D2 / JetStream',
          numerator: 'herald-d2',
          denominator: 'jetstream',
          variant: 'single',
          mode: 'throughput',
          value: spread(5.6, 4.1, 6.7),
          goal: 1,
        },
        {
          title: 'Herald D1 / raw D1, 2 groups',
          numerator: 'herald-d1',
          denominator: 'sqlite-raw-d1',
          variant: 'groups',
          mode: 'throughput',
          value: spread(0.5, 0.3, 0.6),
        },
      ],
    },
  ],
  [
    'b3',
    {
      env: { date: '2026-11-27T01:19:29.938Z' },
      summaries: [summary('amqplib', 'throughput', 11_000), summary('herald-rabbitmq', 'throughput', 8_000)],
      comparisons: [
        {
          title: 'RabbitMQ: Herald / raw, events/s',
          numerator: 'herald-rabbitmq',
          denominator: 'amqplib',
          mode: 'throughput',
          metric: 'throughput',
          kind: 'ratio',
          goal: { op: '≥', value: 0.9 },
          value: spread(0.72, 0.57, 0.82),
        },
        {
          title: 'RabbitMQ: Herald / raw, e2e p99 at the fixed rate',
          numerator: 'herald-rabbitmq',
          denominator: 'amqplib',
          mode: 'latency',
          metric: 'e2eP99',
          kind: 'ratio',
          goal: { op: '≤', value: 1.1 },
          value: spread(2.8, 1.6, 10.8),
        },
      ],
    },
  ],
]);

describe('the headline chart', () => {
  it('keeps, per Herald system and scenario, the goal against the peer that moved the most events', () => {
    const bars = headlineBars(FIXTURE);
    assert.deepEqual(
      bars.map((b) => [b.benchmark, b.label, b.value.median, b.goal, b.met]),
      [
        ['B1', 'Herald D1 / raw ceiling D1', 0.88, 0.5, true],
        ['B1', 'Herald D2 / JetStream', 5.6, 1, true],
        ['B3', 'RabbitMQ: Herald / raw', 0.72, 0.9, false],
      ],
    );
  });

  it('takes B4 against the best peer and lanes at 1,000 keys against unordered, their other figures left out', () => {
    const results = new Map<SuiteId, Record<string, unknown>>([
      [
        'b4',
        {
          goals: [
            {
              title: 'throughput, Herald / the best peer of the repetition',
              kind: 'ratio',
              value: spread(0.9, 0.8, 1.1),
              goal: { op: '≥', value: 1 },
            },
            { title: 'throughput, Herald / bare-skip-locked', kind: 'ratio', value: spread(0.9, 0.8, 1.1) },
            {
              title: 'commit→handler p50, Herald',
              kind: 'ms',
              value: spread(3, 2, 4),
              goal: { op: '≤', value: 5 },
            },
          ],
        },
      ],
      [
        'lanes',
        {
          goals: [
            {
              title: 'sqlite: 10 keys / unordered, events/s',
              transport: 'sqlite',
              kind: 'ratio',
              keys: 10,
              value: spread(0.2, 0.1, 0.3),
            },
            {
              title: 'sqlite: 1,000 keys / unordered, events/s',
              transport: 'sqlite',
              kind: 'ratio',
              keys: 1000,
              value: spread(0.95, 0.9, 1),
              goal: { op: '≥', value: 0.8 },
            },
            {
              title: 'sqlite: order violations, every keyed trial',
              transport: 'sqlite',
              kind: 'violations',
              keys: 0,
              value: spread(0, 0, 0),
              goal: { op: '≤', value: 0 },
            },
          ],
        },
      ],
    ]);
    assert.deepEqual(
      headlineBars(results).map((b) => [b.benchmark, b.label, b.value.median, b.goal, b.met]),
      [
        ['B4', 'outbox: Herald / best peer', 0.9, 1, false],
        ['LANES', 'sqlite: 1,000 keys / unordered', 0.95, 0.8, true],
      ],
    );
  });

  it('spans powers of 2 around every value and goal, at least 0.25× to 4×', () => {
    assert.deepEqual(axisRange(headlineBars(FIXTURE)), { lo: 0.25, hi: 8 });
    assert.deepEqual(axisRange([]), { lo: 0.25, hi: 4 });
  });

  it('draws one bar, one goal tick and one figure per row, on a log axis centred on 1×', () => {
    const bars: HeadlineBar[] = [
      { benchmark: 'B1', label: 'Herald <D1> & raw', value: spread(2, 1.5, 3), goal: 1, met: true },
      { benchmark: 'B2', label: 'Herald / kafkajs', value: spread(0.5, 0.4, 0.6), goal: 1.3, met: false },
    ];
    const svg = ratioChartSvg(bars, 'runs of B1 2026-11-27');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    assert.ok(svg.includes('Herald &lt;D1&gt; &amp; raw'), 'labels are escaped');
    assert.ok(!svg.includes('<D1>'));
    assert.ok(svg.includes('2.00× (goal ≥ 1.00×)'));
    assert.ok(svg.includes('0.50× (goal ≥ 1.30×)'));
    assert.equal((svg.match(/fill="#2e7d32" fill-opacity/g) ?? []).length, 1, 'one met bar');
    assert.equal((svg.match(/fill="#c62828" fill-opacity/g) ?? []).length, 1, 'one missed bar');
    // Axis 0.25×–4× over the plot: 1× in the middle, and a 2× bar as long as a 0.5× one, on either side of it.
    const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="14"/g)].map(
      (m) => [Number(m[1]), Number(m[2])],
    );
    assert.equal(rects.length, 2);
    const [[x2, w2], [x05, w05]] = rects as [[number, number], [number, number]];
    assert.ok(Math.abs(w2 - w05) <= 0.2, `${w2} vs ${w05}`);
    assert.ok(Math.abs(x2 - (x05 + w05)) <= 0.2, 'both bars start or end at 1×');
    assert.ok(svg.includes('>1×</text>') && svg.includes('>0.25×</text>') && svg.includes('>4×</text>'));
  });

  it('says so when no result has a throughput goal', () => {
    assert.ok(ratioChartSvg([], '').includes('No results with a throughput goal yet.'));
  });
});
