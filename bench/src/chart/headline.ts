import type { Comparison } from '../comparison.ts';
import type { SuiteId } from '../options.ts';
import type { B4Goal } from '../report-b4.ts';
import type { B5Ratio } from '../report-b5.ts';
import type { LanesGoal } from '../report-lanes.ts';
import type { Spread } from '../stats.ts';
import type { Ratio, Summary } from '../summary.ts';

/** One bar of the headline chart: Herald's throughput against the strongest peer it has a goal against. */
export interface HeadlineBar {
  /** `B1`, `B2`... */
  readonly benchmark: string;
  readonly label: string;
  /** The ratio over repetitions (each taken within a repetition). */
  readonly value: Spread;
  /** Herald meets the goal when the median is at least this. */
  readonly goal: number;
  readonly met: boolean;
}

/** What the chart shows, for the page that embeds it. */
export const CHART_CAPTION =
  "Herald's throughput ÷ the best peer's, per benchmark and scenario (the peer with the highest throughput " +
  'among those with a throughput goal; B5: traced ÷ untraced Herald; lanes: ordered over 1,000 keys ÷ ' +
  'unordered): the median of the per-repetition ratios, ' +
  'the min–max as a whisker, the goal as a black tick. Log scale, 1× in the middle. Latency and CPU goals are ' +
  'in the tables below.';

interface Candidate {
  readonly group: string;
  readonly label: string;
  readonly value: Spread;
  readonly goal: number;
  /** The denominator's median throughput, to find the best peer of the group. */
  readonly peerThroughput: number;
}

function peerThroughput(
  summaries: readonly Summary[],
  system: string,
  variant: string,
  mode: string,
): number {
  const s = summaries.find((x) => x.system === system && x.variant === variant && x.mode === mode);
  return s?.throughput.median ?? Number.NaN;
}

function b1Candidates(json: Record<string, unknown>): Candidate[] {
  const summaries = (json.summaries ?? []) as Summary[];
  return ((json.ratios ?? []) as Ratio[])
    .filter((r) => r.goal !== undefined)
    .map((r) => ({
      group: `${r.numerator} ${r.variant} ${r.mode}`,
      label: r.title,
      value: r.value,
      goal: r.goal!,
      peerThroughput: peerThroughput(summaries, r.denominator, r.variant, r.mode),
    }));
}

function comparisonCandidates(json: Record<string, unknown>): Candidate[] {
  const summaries = (json.summaries ?? []) as Summary[];
  return ((json.comparisons ?? []) as Comparison[])
    .filter((c) => c.metric === 'throughput' && c.kind === 'ratio' && c.goal?.op === '≥')
    .map((c) => ({
      group: `${c.numerator} ${c.variant ?? 'single'} ${c.mode}`,
      label: c.title.replace(/, events\/s$/, ''),
      value: c.value,
      goal: c.goal!.value,
      peerThroughput: peerThroughput(summaries, c.denominator, c.variant ?? 'single', c.mode),
    }));
}

function b5Candidates(json: Record<string, unknown>): Candidate[] {
  return ((json.ratios ?? []) as B5Ratio[])
    .filter((r) => r.mode === 'throughput' && r.goal?.bound === 'min')
    .map((r) => ({
      group: 'traced',
      label: r.title,
      value: r.value,
      goal: r.goal!.value,
      peerThroughput: 0,
    }));
}

/** B4: Herald's throughput over the best peer of each repetition (the goal already takes the best). */
function b4Candidates(json: Record<string, unknown>): Candidate[] {
  return ((json.goals ?? []) as B4Goal[])
    .filter((g) => g.kind === 'ratio' && g.goal?.op === '≥')
    .map((g) => ({
      group: 'outbox',
      label: 'outbox: Herald / best peer',
      value: g.value,
      goal: g.goal!.value,
      peerThroughput: 0,
    }));
}

/** Lanes: per transport, the keyed throughput with a goal over the unordered one. */
function lanesCandidates(json: Record<string, unknown>): Candidate[] {
  return ((json.goals ?? []) as LanesGoal[])
    .filter((g) => g.kind === 'ratio' && g.goal?.op === '≥')
    .map((g) => ({
      group: g.transport,
      label: g.title.replace(/, events\/s$/, ''),
      value: g.value,
      goal: g.goal!.value,
      peerThroughput: 0,
    }));
}

const EXTRACT: readonly [SuiteId, (json: Record<string, unknown>) => Candidate[]][] = [
  ['b1', b1Candidates],
  ['b2', comparisonCandidates],
  ['b3', comparisonCandidates],
  ['b4', b4Candidates],
  ['b5', b5Candidates],
  ['lanes', lanesCandidates],
];

/**
 * The chart's bars from the suites' results JSON: for each Herald system and scenario of a benchmark, the
 * throughput goal against the peer that moved the most events in that run (ties: the first listed). Suites
 * absent from `results`, ratios without a goal and ratios with no measured repetition are left out.
 */
export function headlineBars(results: ReadonlyMap<SuiteId, Record<string, unknown>>): HeadlineBar[] {
  const bars: HeadlineBar[] = [];
  for (const [id, extract] of EXTRACT) {
    const json = results.get(id);
    if (json === undefined) continue;
    const best = new Map<string, Candidate>();
    for (const c of extract(json)) {
      if (c.value.n === 0 || !Number.isFinite(c.value.median)) continue;
      const held = best.get(c.group);
      if (held === undefined || c.peerThroughput > held.peerThroughput) best.set(c.group, c);
    }
    for (const c of best.values()) {
      bars.push({
        benchmark: id.toUpperCase(),
        label: c.label,
        value: c.value,
        goal: c.goal,
        met: c.value.median >= c.goal,
      });
    }
  }
  return bars;
}

/** The date of each suite's run (`env.date`, day only), for the chart's subtitle. */
export function runDates(results: ReadonlyMap<SuiteId, Record<string, unknown>>): string[] {
  return [...results]
    .filter(([id]) => EXTRACT.some(([e]) => e === id))
    .map(([id, json]) => {
      const date = (json.env as { date?: string } | undefined)?.date ?? '';
      return `${id.toUpperCase()} ${date.slice(0, 10)}`;
    });
}
