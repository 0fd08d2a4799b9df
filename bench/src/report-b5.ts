import type { Machine } from './environment.ts';
import { count, decimal, millis, ratio, withRange } from './format.ts';
import type { Mode } from './protocol.ts';
import { loadNote, machineTable } from './report-broker.ts';
import { errorsOf, runs, type RunOptions, type SystemInfo } from './report.ts';
import { spread, type Spread } from './stats.ts';
import { systemsFromJson } from './suite.ts';
import { clientCpuUs, SCENARIOS, type Summary } from './summary.ts';
import { renderMarkdown, renderText, type Table } from './table.ts';
import type { TrialResult } from './trial.ts';

const UNTRACED = 'herald-api-d1';
const TRACED = 'herald-api-d1-traced';

/** Traced ÷ untraced of one metric, computed per repetition (the two ran back to back) then summarised. */
export interface B5Ratio {
  readonly title: string;
  readonly mode: Mode;
  readonly value: Spread;
  /** The B5 goal: `min` for throughput (≥), `max` for latency (≤). */
  readonly goal?: { readonly bound: 'min' | 'max'; readonly value: number };
}

/** Everything the B5 report is made of (the results JSON holds it, plus every trial). */
export interface B5Report {
  readonly benchmark: 'B5';
  readonly options: RunOptions;
  readonly env: Machine;
  readonly systems: readonly SystemInfo[];
  readonly summaries: readonly Summary[];
  readonly ratios: readonly B5Ratio[];
  readonly elapsedS: number;
  readonly resultsPath: string;
}

export function b5ReportFromJson(json: Record<string, unknown>): B5Report {
  return { ...(json as unknown as B5Report), systems: systemsFromJson(json.systems) };
}

const RATIO_SPECS: readonly (Omit<B5Ratio, 'value'> & { pick: (r: TrialResult) => number | undefined })[] = [
  {
    title: 'throughput, traced / untraced',
    mode: 'throughput',
    pick: (r) => r.throughput,
    goal: { bound: 'min', value: 0.85 },
  },
  { title: 'client CPU per event at full speed, traced / untraced', mode: 'throughput', pick: clientCpuUs },
  { title: 'e2e p50 at the fixed rate, traced / untraced', mode: 'latency', pick: (r) => r.e2eMs?.p50 },
  {
    title: 'e2e p99 at the fixed rate, traced / untraced',
    mode: 'latency',
    pick: (r) => r.e2eMs?.p99,
    goal: { bound: 'max', value: 1.2 },
  },
  { title: 'client CPU per event at the fixed rate, traced / untraced', mode: 'latency', pick: clientCpuUs },
];

/** The B5 ratios, each over the repetitions where both the traced and the untraced trial succeeded. */
export function b5Ratios(results: readonly TrialResult[]): B5Ratio[] {
  return RATIO_SPECS.map(({ pick, ...spec }) => {
    const of = (system: string, rep: number): number | undefined => {
      const r = results.find((t) => t.system === system && t.mode === spec.mode && t.rep === rep && t.ok);
      return r === undefined ? undefined : pick(r);
    };
    const reps = [...new Set(results.map((r) => r.rep))];
    const values = reps.map((rep) => {
      const traced = of(TRACED, rep);
      const untraced = of(UNTRACED, rep);
      return traced === undefined || untraced === undefined ? Number.NaN : traced / untraced;
    });
    return { ...spec, value: spread(values) };
  });
}

function verdict(r: B5Ratio): string {
  if (r.goal === undefined || !Number.isFinite(r.value.median)) return '';
  const met = r.goal.bound === 'min' ? r.value.median >= r.goal.value : r.value.median <= r.goal.value;
  return met ? 'met' : 'NOT met';
}

function ratioTable(ratios: readonly B5Ratio[]): Table {
  return {
    head: ['ratio', 'median (min–max)', 'goal', 'verdict'],
    right: new Set([1]),
    rows: ratios.map((r) => [
      r.title,
      withRange(r.value, ratio),
      r.goal === undefined ? '' : `${r.goal.bound === 'min' ? '≥' : '≤'} ${ratio(r.goal.value)}`,
      verdict(r),
    ]),
  };
}

function scenarioTable(mode: Mode, summaries: readonly Summary[]): Table {
  const rows = summaries.filter((s) => s.mode === mode);
  const head =
    mode === 'latency'
      ? ['system', 'e2e p50 ms', 'e2e p99 ms', 'e2e p99.9 ms', 'publish p50 ms', 'publish p99 ms']
      : ['system', 'events/s median (min–max)'];
  const cells = (s: Summary): string[] =>
    mode === 'latency'
      ? [
          withRange(s.e2eP50, millis),
          withRange(s.e2eP99, millis),
          withRange(s.e2eP999, millis),
          withRange(s.publishP50, millis),
          withRange(s.publishP99, millis),
        ]
      : [withRange(s.throughput, count)];
  const all = [...head, 'client CPU µs/event', 'peak RSS MB', 'other load', 'runs'];
  return {
    head: all,
    right: new Set(all.map((_, i) => i).filter((i) => i >= 1)),
    rows: rows.map((s) => [
      s.label,
      ...cells(s),
      withRange(s.clientCpuUs, decimal),
      withRange(s.peakRssMb, count),
      decimal(s.backgroundCores.median, 2),
      runs(s),
    ]),
  };
}

function parameters(r: B5Report): string {
  const o = r.options;
  return (
    `${count(o.count)} events per throughput trial (\`--count\`), latency at ${count(o.rate)} events/s for ` +
    `${o.seconds} s (${count(o.rate * o.seconds)} events per trial), B1's ~400 B order event, ${o.reps} ` +
    'measured repetition(s) after a warm-up pass; within each repetition the untraced and the traced system ' +
    'run back to back, and every ratio is taken per repetition'
  );
}

const titleOf = (mode: Mode): string =>
  SCENARIOS.find((s) => s.variant === 'single' && s.mode === mode)!.title;

/** The B5 section of docs/benchmarks.md. */
export function markdownB5(r: B5Report): string {
  const out: string[] = [
    '## B5: the cost of tracing (embedded sqlite transport, D1)',
    '',
    `Run on ${r.env.date} (\`npm run bench -- --suite b5\`); raw results: \`${r.resultsPath}\`. ${parameters(r)}. ` +
      'Every trial starts fresh child processes (1 producer, 1 consumer) on a fresh database file. The whole ' +
      `run took ${Math.round(r.elapsedS)} s. Scope: B1's embedded transport only; B3 (RabbitMQ, NATS) traced is ` +
      'not measured yet.',
    '',
    '### Machine and versions',
    '',
    renderMarkdown(machineTable(r.env, [])),
    '',
    '### Systems',
    '',
    ...r.systems.map((s) => `- **${s.label}** (\`${s.id}\`, ${s.durabilityLabel}): ${s.notes}`),
    '',
    '### Traced against untraced (goals: throughput ≥ 0.85×, e2e p99 ≤ 1.2×)',
    '',
    renderMarkdown(ratioTable(r.ratios)),
  ];
  for (const mode of ['throughput', 'latency'] as const) {
    out.push('', `### ${titleOf(mode)}`, '', renderMarkdown(scenarioTable(mode, r.summaries)));
  }
  out.push(
    '',
    '### How it is measured',
    '',
    "- Spans go to a counting no-op exporter behind the SDK's `BatchSpanProcessor`: the figures are the " +
      "SDK's and Herald's instrumentation cost (spans, attributes, trace context in every event, the " +
      "processor's queue), not an exporter's. The processor's queue is raised from 2,048 to 65,536 spans: " +
      'with the default, a full-speed trial of 20,000 events exported only about 2,500 spans per process (the ' +
      'rest dropped); with 65,536, every event gives one `send` and one `process` span, all exported (counted). ' +
      'The in-memory exporter would keep every span (memory and GC ' +
      'growing over the trial); OTLP or the local trace store would add serialisation and I/O that depend on ' +
      "the backend. Herald's Prometheus metrics are off in both systems (`metrics: false`): B5 isolates tracing.",
    '- Client CPU: user + system time of the producer and consumer processes over the measured window ' +
      '(`process.cpuUsage`), divided by the events of the trial; at the fixed rate it is mostly the cost per ' +
      'event, at full speed it includes the time spent waiting on SQLite.',
    "- Peak RSS: sum of each child process's peak (`resourceUsage().maxRSS`, includes the tsx loader). Other " +
      'load: CPU used by every other process of the machine during the trial, in cores.',
    ...loadNote(r.summaries),
  );
  const errors = errorsOf(r.summaries);
  if (errors.length > 0) out.push('', '### Failures', '', ...errors.map((e) => `- ${e}`));
  return out.join('\n');
}

/** The B5 report for the terminal. */
export function textB5(r: B5Report): string {
  const out = [`B5: tracing cost, ${parameters(r)}`, '', renderText(ratioTable(r.ratios))];
  for (const mode of ['throughput', 'latency'] as const) {
    out.push('', titleOf(mode), renderText(scenarioTable(mode, r.summaries)));
  }
  const errors = errorsOf(r.summaries);
  if (errors.length > 0) out.push('', 'Failures', ...errors.map((e) => `  ${e}`));
  return out.join('\n');
}
