import type { Environment } from './environment.ts';
import { count, decimal, millis, ratio, withRange } from './format.ts';
import type { Options } from './options.ts';
import type { LatencyGoal, Ratio, Scenario, Summary } from './summary.ts';
import type { System } from './system.ts';
import type { Table } from './table.ts';

// The B1 tables, shared by the terminal report (report-text.ts) and docs (report-markdown.ts).

/** The options a suite ran with, its count resolved. */
export type RunOptions = Omit<Options, 'count'> & { readonly count: number };

/** What a report says of a system (all of it is in the results JSON). */
export type SystemInfo = Pick<System, 'id' | 'label' | 'peer' | 'durabilityLabel' | 'notes'>;

/** Everything a B1 report is made of. */
export interface Report {
  readonly options: RunOptions;
  readonly env: Environment;
  readonly systems: readonly SystemInfo[];
  readonly summaries: readonly Summary[];
  readonly ratios: readonly Ratio[];
  readonly latencyGoals: readonly LatencyGoal[];
  readonly heraldAvailable: boolean;
  readonly skipped: readonly string[];
  readonly elapsedS: number;
  readonly resultsPath: string;
}

/** `D1`, `D2`, `D0/D1`: the code at the start of a durability label. */
export function durabilityCode(label: string): string {
  return label.split(/[\s:]/, 1)[0]!;
}

export function runs(s: Summary): string {
  return s.ok === s.runs ? String(s.ok) : `${s.ok}/${s.runs}`;
}

export function scenarioTable(scenario: Scenario, summaries: readonly Summary[]): Table | undefined {
  const rows = summaries.filter((s) => s.variant === scenario.variant && s.mode === scenario.mode);
  if (rows.length === 0) return undefined;
  if (scenario.mode === 'throughput') {
    return {
      head: [
        'system',
        'dur.',
        'events/s median (min–max)',
        'CPU s / M events',
        'peak RSS MB',
        'other load',
        'runs',
      ],
      right: new Set([2, 3, 4, 5, 6]),
      rows: rows.map((s) => [
        s.label,
        durabilityCode(s.durability),
        withRange(s.throughput, count),
        withRange(s.cpuPerMillion, decimal),
        withRange(s.peakRssMb, count),
        decimal(s.backgroundCores.median, 2),
        runs(s),
      ]),
    };
  }
  return {
    head: [
      'system',
      'dur.',
      'e2e p50 ms',
      'e2e p99 ms',
      'e2e p99.9 ms',
      'publish p50 ms',
      'publish p99 ms',
      'CPU s / M',
      'peak RSS MB',
      'other load',
      'runs',
    ],
    right: new Set([2, 3, 4, 5, 6, 7, 8, 9, 10]),
    rows: rows.map((s) => [
      s.label,
      durabilityCode(s.durability),
      withRange(s.e2eP50, millis),
      withRange(s.e2eP99, millis),
      withRange(s.e2eP999, millis),
      withRange(s.publishP50, millis),
      withRange(s.publishP99, millis),
      withRange(s.cpuPerMillion, decimal),
      withRange(s.peakRssMb, count),
      decimal(s.backgroundCores.median, 2),
      runs(s),
    ]),
  };
}

export function ratioTable(ratios: readonly Ratio[]): Table {
  return {
    head: ['ratio (throughput, per repetition)', 'median (min–max)', 'goal', 'met'],
    right: new Set([1, 2]),
    rows: ratios.map((r) => [
      r.note ? `${r.title} (${r.note})` : r.title,
      withRange(r.value, ratio),
      r.goal === undefined ? '–' : `≥ ${r.goal.toFixed(1)}×`,
      r.goal === undefined ? '–' : r.value.median >= r.goal ? 'yes' : 'no',
    ]),
  };
}

export function latencyGoalTable(goals: readonly LatencyGoal[]): Table {
  return {
    head: ['system', 'e2e p50 ms (goal ≤ 1)', 'e2e p99 ms (goal ≤ 5)', 'met'],
    right: new Set([1, 2]),
    rows: goals.map((g) => [g.system, millis(g.p50), millis(g.p99), g.met ? 'yes' : 'no']),
  };
}

export function errorsOf(summaries: readonly Summary[]): string[] {
  return summaries.flatMap((s) =>
    s.errors.map((e) => `${s.system} ${s.variant} ${s.mode}: ${e.split('\n', 1)[0]!.slice(0, 300)}`),
  );
}

export function parameters(r: Report): string {
  const o = r.options;
  return (
    `${count(o.count)} events per throughput trial (B1 specifies 1M; \`--count\`), ` +
    `latency at ${count(o.rate)} events/s for ${o.seconds} s (${count(o.rate * o.seconds)} events per trial), ` +
    `${o.reps} measured repetition(s) after a warm-up pass, systems interleaved within each repetition` +
    (o.peerVariants
      ? ''
      : '; the broker peers run the 1 → 1 scenarios only (`--peer-variants` adds the rest)')
  );
}
