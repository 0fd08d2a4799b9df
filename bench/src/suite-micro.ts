// Micro: the core's own CPU per event, on a stub transport that does no I/O (see docs/benchmarks.md).
import { nowUs } from './clock.ts';
import { gitCommit, readMachine } from './environment.ts';
import { measureMicro } from './micro/measure.ts';
import { summarizeMicro } from './micro/summary.ts';
import { textMicro, type MicroReport } from './report-micro.ts';
import type { SuiteContext, SuiteOutcome } from './suite.ts';

export const MICRO_RESULTS = 'bench/results/micro.json';
/** Events per path per repetition by default: about a second per path here, a few microseconds each. */
export const MICRO_DEFAULT_COUNT = 50_000;

const PACKAGES = ['@herald/core', 'tsx'];

export async function runMicro(ctx: SuiteContext): Promise<SuiteOutcome> {
  const started = nowUs();
  const count = ctx.options.count ?? MICRO_DEFAULT_COUNT;
  const warmup = ctx.options.warmup;
  const options = {
    count,
    warmCount: warmup ? Math.max(1000, Math.round(count / 5)) : 0,
    reps: ctx.options.reps,
  };
  const env = { ...readMachine(ctx.root, PACKAGES), commit: gitCommit(ctx.root) };
  const trials = await measureMicro({
    ...options,
    warmup,
    signal: ctx.signal,
    onTrial: (t) => {
      const perEvent = (ns: number): string => (ns / t.count / 1000).toFixed(2);
      const figures = t.ok
        ? `${perEvent(t.wallNs)} µs/event, CPU ${perEvent(t.cpuNs)} µs/event`
        : `FAILED: ${t.error ?? ''}`;
      process.stderr.write(
        `${t.rep === 0 ? 'warm-up' : `rep ${t.rep}/${options.reps}`} ${t.path}: ${figures}\n`,
      );
    },
  });
  const report: MicroReport = {
    benchmark: 'micro',
    options,
    env,
    summaries: summarizeMicro(trials),
    trials,
    elapsedS: (nowUs() - started) / 1e6,
    resultsPath: MICRO_RESULTS,
  };
  return { id: 'micro', json: { ...report }, text: textMicro(report) };
}
