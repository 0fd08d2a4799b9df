import type { Machine } from './environment.ts';
import { count, decimal, withRange } from './format.ts';
import { MICRO_PATH_NOTES, type MicroPathId } from './micro/paths.ts';
import type { MicroTrial } from './micro/measure.ts';
import type { MicroSummary } from './micro/summary.ts';
import { machineTable } from './report-broker.ts';
import { renderMarkdown, renderText, type Table } from './table.ts';

/** Everything the micro report is made of; the results JSON holds it, plus every trial. */
export interface MicroReport {
  readonly benchmark: 'micro';
  /** `warmCount` is 0 when no warm-up ran (`--quick`). */
  readonly options: { readonly count: number; readonly warmCount: number; readonly reps: number };
  /** The machine, and the git commit the run measured (`+dirty` with uncommitted changes). */
  readonly env: Machine & { readonly commit: string };
  readonly summaries: readonly MicroSummary[];
  readonly trials: readonly MicroTrial[];
  readonly elapsedS: number;
  readonly resultsPath: string;
}

/** Reads a micro report back from its results JSON. */
export function microReportFromJson(json: Record<string, unknown>): MicroReport {
  return json as unknown as MicroReport;
}

const LABELS: Readonly<Record<MicroPathId, string>> = {
  publish: 'publish (createPublisher → publish)',
  dispatch: 'dispatch (createRouter, default pipeline)',
  'dispatch-idempotent': 'dispatch + idempotency (memoryInbox)',
};

const us = (ns: number): string => decimal(ns / 1000, 2);

function summaryTable(summaries: readonly MicroSummary[]): Table {
  const head = [
    'path',
    'µs/event wall, median (min–max)',
    'CPU µs/event',
    'events/s median (min–max)',
    'other load',
    'runs',
  ];
  return {
    head,
    right: new Set([1, 2, 3, 4, 5]),
    rows: summaries.map((s) => [
      LABELS[s.path],
      withRange(s.nsPerEvent, us),
      withRange(s.cpuNsPerEvent, us),
      withRange(s.eventsPerSecond, count),
      decimal(s.backgroundCores.median, 2),
      s.ok === s.runs ? String(s.runs) : `${s.ok} of ${s.runs}`,
    ]),
  };
}

function parameters(r: MicroReport): string {
  const o = r.options;
  return (
    `${count(o.count)} events per path per repetition (\`--count\`), ${o.reps} measured repetition(s) ` +
    (o.warmCount > 0
      ? `after a warm-up of ${count(o.warmCount)} events per path`
      : 'with no warm-up (`--quick`)') +
    ', the paths interleaved within each repetition, in one process; commit `' +
    r.env.commit +
    '`'
  );
}

function failures(r: MicroReport): string[] {
  return r.summaries.flatMap((s) => s.errors.map((e) => `${s.path}: ${e}`));
}

/** The micro-benchmark section of docs/benchmarks.md. */
export function markdownMicro(r: MicroReport): string {
  const out = [
    "## Micro: the core's CPU per event (transport stubbed)",
    '',
    `Run on ${r.env.date} (\`npm run bench -- --suite micro\`); raw results: \`${r.resultsPath}\`. ` +
      `${parameters(r)}. The whole run took ${Math.round(r.elapsedS)} s. No goal of its own: it shows what ` +
      "Herald's publisher and router cost per event with no broker, so a regression in the core shows here " +
      'before it is lost in the noise of B1–B5.',
    '',
    '### Machine and versions',
    '',
    renderMarkdown(machineTable(r.env, [['commit', r.env.commit]])),
    '',
    '### Per event, one event at a time',
    '',
    renderMarkdown(summaryTable(r.summaries)),
    '',
    '### How each path is driven',
    '',
    ...r.summaries.map((s) => `- **${LABELS[s.path]}** (\`${s.path}\`): ${MICRO_PATH_NOTES[s.path]}`),
    '',
    '### How it is measured',
    '',
    '- The transport is an in-process stub (bench/src/micro/stub-transport.ts) that does no I/O: its `publish` ' +
      'resolves at once; its subscription hands each pre-encoded record (made by the publish path before the ' +
      "timing starts) to the router and waits until it is settled. The event is B1's ~400 B order event; its " +
      'schema is a Standard Schema that accepts the data as is, so no validator library is measured.',
    '- Wall: `process.hrtime` around the loop of one path, ÷ events. CPU: user + system time of the process ' +
      'over the loop (`process.cpuUsage`), ÷ events; it includes garbage collection (on other threads too), so ' +
      'it can exceed the wall time. Every repetition checks that each event was published, or handled and acked ' +
      'once with no retry, dead letter or router error (and recorded in the inbox); a repetition that fails ' +
      'is reported, not timed.',
    '- Other load: CPU used by every other process of the machine during the loops, in cores. Wall time ' +
      'includes the time the process waited for a core while others ran; CPU per event does not, and is the ' +
      'figure to compare between runs and commits.',
  ];
  const errors = failures(r);
  if (errors.length > 0) out.push('', '### Failures', '', ...errors.map((e) => `- ${e}`));
  return out.join('\n');
}

/** The micro report for the terminal. */
export function textMicro(r: MicroReport): string {
  const out = [`Micro: ${parameters(r)}`, '', renderText(summaryTable(r.summaries))];
  const errors = failures(r);
  if (errors.length > 0) out.push('', 'Failures', ...errors.map((e) => `  ${e}`));
  return out.join('\n');
}
