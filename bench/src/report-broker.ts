import type { Comparison } from './comparison.ts';
import { heraldFromLabel, type Machine } from './environment.ts';
import { count, decimal, millis, ratio, withRange } from './format.ts';
import { durabilityCode, runs, type SystemInfo } from './report.ts';
import type { Spread } from './stats.ts';
import type { Scenario, Summary } from './summary.ts';
import type { Table } from './table.ts';

// Tables of the broker suites (B2, B3), shared by their terminal and Markdown reports.

/** The CPU columns: client processes and broker, µs per event, with their spread. */
function cpuCells(s: Summary): string[] {
  return [withRange(s.clientCpuUs, decimal), withRange(s.brokerCpuUs, decimal)];
}

const TAIL = ['peak RSS MB', 'other load', 'runs'];

function tail(s: Summary): string[] {
  return [withRange(s.peakRssMb, count), decimal(s.backgroundCores.median, 2), runs(s)];
}

export function brokerScenarioTable(scenario: Scenario, summaries: readonly Summary[]): Table | undefined {
  const rows = summaries.filter((s) => s.variant === scenario.variant && s.mode === scenario.mode);
  if (rows.length === 0) return undefined;
  const cpu = ['client CPU µs/event', 'broker CPU µs/event'];
  const lead = (s: Summary): string[] => [s.label, durabilityCode(s.durability)];
  let head: string[];
  let cells: (s: Summary) => string[];
  switch (scenario.mode) {
    case 'publish-one':
    case 'publish-batch':
      head = ['events/s median (min–max)', 'publish p50 ms', 'publish p99 ms', ...cpu];
      cells = (s) => [
        withRange(s.throughput, count),
        withRange(s.publishP50, millis),
        withRange(s.publishP99, millis),
        ...cpuCells(s),
      ];
      break;
    case 'latency':
      head = ['e2e p50 ms', 'e2e p99 ms', 'e2e p99.9 ms', 'publish p50 ms', 'publish p99 ms', ...cpu];
      cells = (s) => [
        withRange(s.e2eP50, millis),
        withRange(s.e2eP99, millis),
        withRange(s.e2eP999, millis),
        withRange(s.publishP50, millis),
        withRange(s.publishP99, millis),
        ...cpuCells(s),
      ];
      break;
    default:
      head = ['events/s median (min–max)', ...cpu];
      cells = (s) => [withRange(s.throughput, count), ...cpuCells(s)];
  }
  const all = ['system', 'dur.', ...head, ...TAIL];
  return {
    head: all,
    right: new Set(all.map((_, i) => i).filter((i) => i >= 2)),
    rows: rows.map((s) => [...lead(s), ...cells(s), ...tail(s)]),
  };
}

function formatValue(c: Comparison, value: number): string {
  if (c.kind === 'ratio') return ratio(value);
  if (!Number.isFinite(value)) return '–';
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)} µs`;
}

function formatSpread(c: Comparison, s: Spread): string {
  return withRange(s, (v) => formatValue(c, v));
}

export function comparisonTable(comparisons: readonly Comparison[]): Table {
  return {
    head: ['comparison (per repetition)', 'median (min–max)', 'goal', 'met'],
    right: new Set([1, 2]),
    rows: comparisons.map((c) => [
      c.title,
      formatSpread(c, c.value),
      c.goal === undefined ? '–' : `${c.goal.op} ${formatValue(c, c.goal.value).replace(/^\+/, '')}`,
      c.met === undefined ? '–' : c.met ? 'yes' : 'no',
    ]),
  };
}

/** Machine, Node, servers (`servers`: name → description) and package versions. */
export function machineTable(env: Machine, servers: readonly (readonly [string, string])[]): Table {
  return {
    head: ['what', 'value'],
    rows: [
      ['date', env.date],
      ['machine', `${env.cpuModel}, ${env.cores} cores, ${env.memoryGiB} GiB, ${env.os}`],
      ['Node', env.node],
      ['Herald loaded from', heraldFromLabel(env.heraldFrom)],
      ...servers.map(([name, value]) => [name, value]),
      ...Object.entries(env.packages).map(([name, version]) => [name, version]),
    ],
  };
}

/** The durability paragraph and one line per system. */
export function durabilityLines(systems: readonly SystemInfo[]): string[] {
  return [
    'D0: nothing acknowledged by a broker; D1: survives a process crash (no fsync per ack); D2: fsync before the ack.',
    '',
    ...systems.map((s) => `- **${s.label}** (\`${s.id}\`): ${s.durabilityLabel}`),
  ];
}

/** The CPU and RSS measurement notes common to B2 and B3. */
export const MEASUREMENT_NOTES: readonly string[] = [
  '- Client CPU: user + system time of the producer and consumer processes over the measured window ' +
    '(`process.cpuUsage`), divided by the events of the trial; it includes the harness (reading a stamp from ' +
    'each event, counting it), the same for every system, and idle time spent waiting. Broker CPU: the ' +
    "broker process's time from `/proc/<pid>/stat` (10 ms resolution) over the same window.",
  "- Peak RSS: sum of each child process's peak (`resourceUsage().maxRSS`, includes the tsx loader) and the " +
    "broker's peak RSS sampled every 50 ms during the trial.",
  '- Other load: CPU used by every other process of the machine during the trial, in cores: the noise the ' +
    'trial ran under (2 cores in all).',
];

/** A note when other processes loaded the machine during the trials (median over every trial, in cores). */
export function loadNote(summaries: readonly Summary[]): string[] {
  const loads = summaries.map((s) => s.backgroundCores.median).filter(Number.isFinite);
  if (loads.length === 0) return [];
  const median = [...loads].sort((a, b) => a - b)[loads.length >> 1]!;
  if (median < 0.3) return [];
  return [
    `- Other processes used about ${median.toFixed(1)} of the 2 cores during this run (the "other load" ` +
      'column: other work on the machine, idle brokers); the spreads reflect it, and a ' +
      'quiet machine gives tighter figures.',
  ];
}
