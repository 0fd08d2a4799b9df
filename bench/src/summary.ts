import type { Mode, Variant } from './protocol.ts';
import { spread, type Spread } from './stats.ts';
import type { System } from './system.ts';
import type { TrialResult } from './trial.ts';

/** One system in one scenario, over the measured repetitions. */
export interface Summary {
  readonly system: string;
  readonly label: string;
  readonly durability: string;
  readonly variant: Variant;
  readonly mode: Mode;
  readonly ok: number;
  readonly runs: number;
  readonly throughput: Spread;
  readonly e2eP50: Spread;
  readonly e2eP99: Spread;
  readonly e2eP999: Spread;
  readonly publishP50: Spread;
  readonly publishP99: Spread;
  readonly offeredRate: Spread;
  readonly cpuPerMillion: Spread;
  /** CPU of the producer and consumer processes per event, µs (the clients' own cost). */
  readonly clientCpuUs: Spread;
  /** CPU of the broker per event, µs. */
  readonly brokerCpuUs: Spread;
  readonly peakRssMb: Spread;
  /** Other processes' CPU during the trials, cores. */
  readonly backgroundCores: Spread;
  readonly duplicates: number;
  readonly errors: readonly string[];
}

export interface Scenario {
  readonly variant: Variant;
  readonly mode: Mode;
  readonly title: string;
}

/** The scenarios of B1, in run order. */
export const SCENARIOS: readonly Scenario[] = [
  { variant: 'single', mode: 'throughput', title: 'Throughput, 1 producer → 1 consumer' },
  { variant: 'single', mode: 'latency', title: 'Latency at a fixed offered rate, 1 producer → 1 consumer' },
  {
    variant: 'competing',
    mode: 'throughput',
    title: 'Throughput, 1 producer → 2 competing consumers (1 group)',
  },
  {
    variant: 'groups',
    mode: 'throughput',
    title: 'Throughput, 1 producer → 2 groups of 1 consumer (fan-out)',
  },
];

function of(results: readonly TrialResult[], pick: (r: TrialResult) => number | undefined): Spread {
  return spread(results.filter((r) => r.ok).map((r) => pick(r) ?? Number.NaN));
}

/** Client CPU per event of a trial, µs: producer and consumer processes. */
export function clientCpuUs(r: TrialResult): number {
  return ((r.cpuSeconds.producer + r.cpuSeconds.consumers) / r.count) * 1e6;
}

export function summarize(
  systems: readonly Pick<System, 'id' | 'label' | 'durabilityLabel'>[],
  results: readonly TrialResult[],
  scenarios: readonly Scenario[] = SCENARIOS,
): Summary[] {
  const summaries: Summary[] = [];
  for (const scenario of scenarios) {
    for (const system of systems) {
      const mine = results.filter(
        (r) => r.system === system.id && r.variant === scenario.variant && r.mode === scenario.mode,
      );
      if (mine.length === 0) continue;
      summaries.push({
        system: system.id,
        label: system.label,
        durability: system.durabilityLabel,
        variant: scenario.variant,
        mode: scenario.mode,
        ok: mine.filter((r) => r.ok).length,
        runs: mine.length,
        throughput: of(mine, (r) => r.throughput),
        e2eP50: of(mine, (r) => r.e2eMs?.p50),
        e2eP99: of(mine, (r) => r.e2eMs?.p99),
        e2eP999: of(mine, (r) => r.e2eMs?.p999),
        publishP50: of(mine, (r) => r.publishMs?.p50),
        publishP99: of(mine, (r) => r.publishMs?.p99),
        offeredRate: of(mine, (r) => r.offeredRate),
        cpuPerMillion: of(mine, (r) => r.cpuSecondsPerMillion),
        clientCpuUs: of(mine, clientCpuUs),
        brokerCpuUs: of(mine, (r) => (r.cpuSeconds.broker / r.count) * 1e6),
        peakRssMb: of(mine, (r) => r.peakRssMbTotal),
        backgroundCores: of(mine, (r) => r.backgroundCores),
        duplicates: mine.reduce((sum, r) => sum + r.duplicates, 0),
        errors: [...new Set(mine.filter((r) => !r.ok).map((r) => r.error ?? 'failed'))],
      });
    }
  }
  return summaries;
}

/** A ratio of Herald to a peer, computed per repetition (the runs were interleaved) then summarised. */
export interface Ratio {
  readonly title: string;
  readonly numerator: string;
  readonly denominator: string;
  readonly variant: Variant;
  readonly mode: Mode;
  readonly metric: 'throughput';
  readonly value: Spread;
  /** The B1 goal for the ratio, when there is one. */
  readonly goal?: number;
  readonly note?: string;
}

type RatioSpec = Pick<Ratio, 'title' | 'numerator' | 'denominator' | 'goal' | 'note'> & { variant?: Variant };

const RATIO_SPECS: readonly RatioSpec[] = [
  { title: 'Herald D1 / BullMQ', numerator: 'herald-d1', denominator: 'bullmq', goal: 1.0 },
  { title: 'Herald D1 / raw ceiling D1', numerator: 'herald-d1', denominator: 'sqlite-raw-d1', goal: 0.5 },
  { title: 'Herald D2 / raw ceiling D2', numerator: 'herald-d2', denominator: 'sqlite-raw-d2' },
  {
    title: 'Herald D2 / JetStream',
    numerator: 'herald-d2',
    denominator: 'jetstream',
    goal: 1.0,
    note: 'JetStream is D1 here: no fsync per ack',
  },
  {
    title: 'Herald D1 / raw D1, 2 competing',
    numerator: 'herald-d1',
    denominator: 'sqlite-raw-d1',
    variant: 'competing',
  },
  {
    title: 'Herald D1 / BullMQ, 2 competing',
    numerator: 'herald-d1',
    denominator: 'bullmq',
    variant: 'competing',
  },
  {
    title: 'Herald D1 / raw D1, 2 groups',
    numerator: 'herald-d1',
    denominator: 'sqlite-raw-d1',
    variant: 'groups',
  },
  {
    title: 'Herald D1 / JetStream, 2 groups',
    numerator: 'herald-d1',
    denominator: 'jetstream',
    variant: 'groups',
  },
];

const RATIOS: readonly Omit<Ratio, 'value'>[] = RATIO_SPECS.map((r) => ({
  ...r,
  variant: r.variant ?? 'single',
  mode: 'throughput',
  metric: 'throughput',
}));

export function ratios(results: readonly TrialResult[]): Ratio[] {
  const out: Ratio[] = [];
  for (const ratio of RATIOS) {
    const pick = (system: string): Map<number, number> =>
      new Map(
        results
          .filter((r) => r.ok && r.system === system && r.variant === ratio.variant && r.mode === ratio.mode)
          .map((r) => [r.rep, r.throughput]),
      );
    const top = pick(ratio.numerator);
    const bottom = pick(ratio.denominator);
    const perRep = [...top].filter(([rep]) => bottom.has(rep)).map(([rep, v]) => v / bottom.get(rep)!);
    if (perRep.length > 0) out.push({ ...ratio, value: spread(perRep) });
  }
  return out;
}

/** The B1 latency goals, checked on Herald's median over repetitions. */
export interface LatencyGoal {
  readonly system: string;
  readonly p50: number;
  readonly p99: number;
  readonly met: boolean;
}

export const LATENCY_GOAL_MS = { p50: 1, p99: 5 } as const;

export function latencyGoals(summaries: readonly Summary[]): LatencyGoal[] {
  return summaries
    .filter((s) => s.system.startsWith('herald') && s.mode === 'latency' && s.ok > 0)
    .map((s) => ({
      system: s.system,
      p50: s.e2eP50.median,
      p99: s.e2eP99.median,
      met: s.e2eP50.median <= LATENCY_GOAL_MS.p50 && s.e2eP99.median <= LATENCY_GOAL_MS.p99,
    }));
}
