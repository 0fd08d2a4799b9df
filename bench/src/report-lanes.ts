// The lanes report: order per key with parallel keys against the same consumer unordered (see lanes/).
import type { Machine } from './environment.ts';
import { count, decimal, ratio, withRange } from './format.ts';
import type { LanesSystem } from './lanes/systems.ts';
import type { LanesTrialResult } from './lanes/trial.ts';
import { machineTable } from './report-broker.ts';
import { spread, type Spread } from './stats.ts';
import { renderMarkdown, renderText, type Table } from './table.ts';

/** The goal of issue 10: at 1,000 keys, ≥ 0.8× the unordered throughput, and no order violation. */
export const LANES_GOAL = { keys: 1000, ratio: 0.8 } as const;

export interface LanesSummary {
  readonly system: string;
  readonly label: string;
  readonly transport: LanesSystem['transport'];
  readonly keys: number;
  readonly ok: number;
  readonly runs: number;
  readonly throughput: Spread;
  /** Order violations over every measured trial. */
  readonly violations: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly cpuUsPerEvent: Spread;
  readonly peakRssMb: Spread;
  readonly errors: readonly string[];
}

/** A ratio to the unordered consumer, or the violation count, with its goal where it has one. */
export interface LanesGoal {
  readonly title: string;
  readonly transport: LanesSystem['transport'];
  readonly kind: 'ratio' | 'violations';
  readonly keys: number;
  readonly value: Spread;
  readonly goal?: { readonly op: '≥' | '≤'; readonly value: number };
  readonly met?: boolean;
}

export interface LanesReport {
  readonly benchmark: 'lanes';
  readonly env: Machine;
  readonly options: {
    readonly count: number;
    readonly concurrency: number;
    readonly reps: number;
    readonly warmup: boolean;
  };
  readonly systems: readonly LanesSystem[];
  readonly summaries: readonly LanesSummary[];
  readonly goals: readonly LanesGoal[];
  readonly trials: readonly LanesTrialResult[];
  readonly elapsedS: number;
  readonly resultsPath: string;
}

/** Reads a lanes results JSON back. */
export function lanesReportFromJson(json: Record<string, unknown>): LanesReport {
  return json as unknown as LanesReport;
}

const sum = (
  trials: readonly LanesTrialResult[],
  pick: (t: LanesTrialResult) => number | undefined,
): number => trials.reduce((total, t) => total + (pick(t) ?? 0), 0);

/** Each system's figures over its measured trials (violations, duplicates and losses summed). */
export function summarizeLanes(
  systems: readonly LanesSystem[],
  trials: readonly LanesTrialResult[],
): LanesSummary[] {
  return systems.flatMap((s) => {
    const mine = trials.filter((t) => t.system === s.id);
    if (mine.length === 0) return [];
    const ok = mine.filter((t) => t.ok);
    return [
      {
        system: s.id,
        label: s.label,
        transport: s.transport,
        keys: s.keys,
        ok: ok.length,
        runs: mine.length,
        throughput: spread(ok.map((t) => t.throughput ?? Number.NaN)),
        violations: sum(ok, (t) => t.violations),
        duplicates: sum(ok, (t) => t.duplicates),
        lost: sum(ok, (t) => t.lost),
        cpuUsPerEvent: spread(ok.map((t) => t.cpuUsPerEvent ?? Number.NaN)),
        peakRssMb: spread(ok.map((t) => t.peakRssMb ?? Number.NaN)),
        errors: mine.filter((t) => !t.ok).map((t) => `${t.system} rep ${t.rep}: ${t.error ?? 'failed'}`),
      },
    ];
  });
}

/**
 * Per transport: each keyed system's throughput ÷ the unordered one's of the same repetition (the goal at
 * {@link LANES_GOAL}.keys), and the order violations of all its keyed trials (goal: none). A trial that failed
 * makes its repetition's ratio missing, not zero.
 */
export function lanesGoals(trials: readonly LanesTrialResult[]): LanesGoal[] {
  const transports = [...new Set(trials.map((t) => t.transport))];
  return transports.flatMap((transport) => {
    const mine = trials.filter((t) => t.transport === transport);
    const reps = [...new Set(mine.map((t) => t.rep))].sort((a, b) => a - b);
    const at = (keys: number, rep: number) => mine.find((t) => t.keys === keys && t.rep === rep && t.ok);
    const keyed = [...new Set(mine.map((t) => t.keys).filter((k) => k > 0))].sort((a, b) => a - b);
    const ratios: LanesGoal[] = keyed.map((keys) => {
      const value = spread(
        reps.map((rep) => {
          const top = at(keys, rep)?.throughput;
          const bottom = at(0, rep)?.throughput;
          return top === undefined || bottom === undefined ? Number.NaN : top / bottom;
        }),
      );
      const title = `${transport}: ${keys.toLocaleString('en-US')} keys / unordered, events/s`;
      if (keys !== LANES_GOAL.keys || value.n === 0) return { title, transport, kind: 'ratio', keys, value };
      return {
        title,
        transport,
        kind: 'ratio',
        keys,
        value,
        goal: { op: '≥', value: LANES_GOAL.ratio },
        met: value.median >= LANES_GOAL.ratio,
      };
    });
    const keyedTrials = mine.filter((t) => t.keys > 0 && t.ok);
    const violations = sum(keyedTrials, (t) => t.violations);
    const all = keyedTrials.length > 0;
    return [
      ...ratios,
      {
        title: `${transport}: order violations, every keyed trial`,
        transport,
        kind: 'violations',
        keys: 0,
        value: all
          ? { median: violations, min: violations, max: violations, n: keyedTrials.length }
          : { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 },
        goal: { op: '≤', value: 0 },
        ...(all ? { met: violations === 0 } : {}),
      },
    ];
  });
}

function goalsTable(goals: readonly LanesGoal[]): Table {
  return {
    head: ['goal (per repetition, then median over repetitions)', 'value median (min–max)', 'goal', 'met'],
    right: new Set([1, 2]),
    rows: goals.map((g) => [
      g.title,
      g.kind === 'ratio' ? withRange(g.value, ratio) : count(g.value.median),
      g.goal === undefined
        ? '–'
        : `${g.goal.op} ${g.kind === 'ratio' ? ratio(g.goal.value) : count(g.goal.value)}`,
      g.met === undefined ? '–' : g.met ? 'met' : 'not met',
    ]),
  };
}

function figuresTable(summaries: readonly LanesSummary[]): Table {
  const head = [
    'system',
    'events/s median (min–max)',
    'order violations',
    'duplicates',
    'lost',
    'CPU µs/event',
    'peak RSS MB',
    'runs',
  ];
  return {
    head,
    right: new Set(head.map((_, i) => i).filter((i) => i >= 1)),
    rows: summaries.map((s) => [
      s.label,
      withRange(s.throughput, count),
      count(s.violations),
      count(s.duplicates),
      count(s.lost),
      withRange(s.cpuUsPerEvent, (n) => decimal(n, 1)),
      withRange(s.peakRssMb, count),
      s.ok === s.runs ? String(s.ok) : `${s.ok}/${s.runs}`,
    ]),
  };
}

function parameters(r: LanesReport): string {
  const o = r.options;
  return (
    `${count(o.count)} events per trial, subscription concurrency ${o.concurrency}, ${o.reps} measured ` +
    `repetition(s)${o.warmup ? ' after a warm-up pass' : ''}, systems interleaved within each repetition`
  );
}

/** The lanes section of docs/benchmarks.md. */
export function markdownLanes(r: LanesReport): string {
  return [
    '## Lanes: order per key with parallel keys',
    '',
    `Run on ${r.env.date} (\`npm run bench -- --suite lanes\`); raw results: \`${r.resultsPath}\`. ${parameters(r)}. ` +
      `The whole run took ${Math.round(r.elapsedS)} s.`,
    '',
    'Each trial is a fresh process: it stores the events (a fresh sqlite file at D1, or the memory transport), ' +
      "then one subscription (raw `Transport.subscribe`) handles them all; the transport's consumer runs " +
      'same-key events one at a time, in order, and different keys in parallel up to the concurrency. The ' +
      'unordered system publishes the same events without a key, so each runs on its own. The handler is the ' +
      'same everywhere: it counts order, then waits 1 or 2 ms (a timer: I/O-like, no CPU; chosen by a hash of ' +
      'the event, mean 1.5 ms), then the delivery is acknowledged. With an I/O-like wait parallel keys overlap ' +
      'their waits, so order per key costs what it forbids: at most as many events in flight as there are keys ' +
      'with work waiting. (With CPU-bound work one event loop runs one handler at a time, keyed or not, and ' +
      'the comparison would show only the bookkeeping.)',
    '',
    '### Goals (issue 10: ≥ 0.8× the unordered throughput at 1,000 keys, 0 order violations)',
    '',
    renderMarkdown(goalsTable(r.goals)),
    '',
    '### Throughput and order',
    '',
    renderMarkdown(figuresTable(r.summaries)),
    '',
    '### How it is measured',
    '',
    '- Every event carries its key and its sequence number within the key. A violation is an event whose ' +
      'handler started after the handler of a later event of its key; a redelivered event is a duplicate, ' +
      'never a violation. The unordered events carry a logical key among 1,000 too: their violations show ' +
      'what the check catches when nothing keeps the order (no goal).',
    '- Throughput: distinct events ÷ (the last handler resolved − the first handler entry), storing excluded.',
    "- CPU: the trial process's user + system time while handling, per event; peak RSS of the process.",
    '',
    '### Machine and versions',
    '',
    renderMarkdown(machineTable(r.env, [])),
    ...r.summaries.flatMap((s) => s.errors).map((e) => `- ${e}`),
  ].join('\n');
}

/** The lanes report for the terminal. */
export function textLanes(r: LanesReport): string {
  return [
    `Lanes: order per key with parallel keys. ${parameters(r)}.`,
    '',
    renderText(goalsTable(r.goals)),
    '',
    renderText(figuresTable(r.summaries)),
    ...r.summaries.flatMap((s) => s.errors).map((e) => `  ${e}`),
  ].join('\n');
}
