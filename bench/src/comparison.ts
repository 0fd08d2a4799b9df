import type { Mode, Variant } from './protocol.ts';
import { spread, type Spread } from './stats.ts';
import { clientCpuUs } from './summary.ts';
import type { TrialResult } from './trial.ts';

// Herald against a raw client, computed within each repetition (the systems ran interleaved), then summarised
// over repetitions: a ratio (throughput, latency) or a difference (CPU per event).

export type Metric = 'throughput' | 'e2eP99' | 'publishP99' | 'clientCpuUs';

export interface Goal {
  readonly op: '≥' | '≤';
  readonly value: number;
}

export interface ComparisonSpec {
  readonly title: string;
  readonly numerator: string;
  readonly denominator: string;
  readonly variant?: Variant;
  readonly mode: Mode;
  readonly metric: Metric;
  /** `ratio`: numerator ÷ denominator; `difference`: numerator − denominator. */
  readonly kind: 'ratio' | 'difference';
  readonly goal?: Goal;
}

export interface Comparison extends ComparisonSpec {
  readonly value: Spread;
  /** Whether the median meets the goal; undefined without one. */
  readonly met?: boolean;
}

function metricOf(r: TrialResult, metric: Metric): number | undefined {
  switch (metric) {
    case 'throughput':
      return r.throughput;
    case 'e2eP99':
      return r.e2eMs?.p99;
    case 'publishP99':
      return r.publishMs?.p99;
    case 'clientCpuUs':
      return clientCpuUs(r);
  }
}

export function compare(results: readonly TrialResult[], specs: readonly ComparisonSpec[]): Comparison[] {
  const out: Comparison[] = [];
  for (const spec of specs) {
    const variant = spec.variant ?? 'single';
    const pick = (system: string): Map<number, number> =>
      new Map(
        results
          .filter((r) => r.ok && r.system === system && r.variant === variant && r.mode === spec.mode)
          .map((r) => [r.rep, metricOf(r, spec.metric) ?? Number.NaN]),
      );
    const top = pick(spec.numerator);
    const bottom = pick(spec.denominator);
    const perRep = [...top]
      .filter(([rep]) => bottom.has(rep))
      .map(([rep, v]) => (spec.kind === 'ratio' ? v / bottom.get(rep)! : v - bottom.get(rep)!));
    const value = spread(perRep);
    if (value.n === 0) continue;
    const met =
      spec.goal === undefined
        ? undefined
        : spec.goal.op === '≥'
          ? value.median >= spec.goal.value
          : value.median <= spec.goal.value;
    out.push({ ...spec, value, ...(met === undefined ? {} : { met }) });
  }
  return out;
}
