import { spread, type Spread } from '../stats.ts';
import type { MicroTrial } from './measure.ts';
import { MICRO_PATHS, type MicroPathId } from './paths.ts';

/** One path over the measured repetitions (the warm-up left out). */
export interface MicroSummary {
  readonly path: MicroPathId;
  /** Wall time per event, ns. */
  readonly nsPerEvent: Spread;
  /** CPU time (user + system) per event, ns. */
  readonly cpuNsPerEvent: Spread;
  readonly eventsPerSecond: Spread;
  /** Other processes' CPU during the loops, cores. */
  readonly backgroundCores: Spread;
  /** Measured repetitions that passed their checks, of `runs`. */
  readonly ok: number;
  readonly runs: number;
  readonly errors: readonly string[];
}

/** Summarises the measured trials (rep ≥ 1) per path, in {@link MICRO_PATHS} order; failed trials are not timed. */
export function summarizeMicro(trials: readonly MicroTrial[]): MicroSummary[] {
  return MICRO_PATHS.flatMap((path) => {
    const mine = trials.filter((t) => t.path === path && t.rep > 0);
    if (mine.length === 0) return [];
    const good = mine.filter((t) => t.ok);
    return [
      {
        path,
        nsPerEvent: spread(good.map((t) => t.wallNs / t.count)),
        cpuNsPerEvent: spread(good.map((t) => t.cpuNs / t.count)),
        eventsPerSecond: spread(good.map((t) => t.count / (t.wallNs / 1e9))),
        backgroundCores: spread(good.map((t) => t.backgroundCores)),
        ok: good.length,
        runs: mine.length,
        errors: [...new Set(mine.flatMap((t) => (t.error === undefined ? [] : [t.error])))],
      },
    ];
  });
}
