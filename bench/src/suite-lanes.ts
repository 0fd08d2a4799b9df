// Lanes: order per key with parallel keys at 10, 100 and 1,000 keys against the same consumer unordered, on the
// sqlite and memory transports (see report-lanes.ts and lanes/).
import { nowUs } from './clock.ts';
import { readMachine } from './environment.ts';
import { count } from './format.ts';
import { lanesSystems } from './lanes/systems.ts';
import { runLanesTrial, type LanesTrialResult } from './lanes/trial.ts';
import { HERALD_CONCURRENCY } from './peers/herald-client.ts';
import { lanesGoals, summarizeLanes, textLanes, type LanesReport } from './report-lanes.ts';
import { SuiteSkipped, type SuiteContext, type SuiteOutcome } from './suite.ts';

export const LANES_RESULTS = 'bench/results/lanes.json';
/** Events per trial by default: the 10-key systems handle a few thousand a second (10 lanes of ~1.5 ms). */
export const LANES_DEFAULT_COUNT = 20_000;

const PACKAGES = ['@herald/core', '@herald/sqlite', 'better-sqlite3', 'tsx'];

/** Runs the lanes suite: warm-up and measured trials, each system in a fresh process, systems interleaved. */
export async function runLanes(ctx: SuiteContext): Promise<SuiteOutcome> {
  const started = nowUs();
  const o = ctx.options;
  const countPerTrial = o.count ?? LANES_DEFAULT_COUNT;
  // A quick run (CI's smoke check) runs the embedded transport only: memory runs the same consumer (the log
  // consumer and its keyed executor) and would double the suite's time for no other check.
  const systems = lanesSystems(o.quick ? ['sqlite'] : ['sqlite', 'memory']).filter(
    (s) => o.only.length === 0 || o.only.some((x) => s.id.startsWith(x)),
  );
  if (systems.length === 0) throw new SuiteSkipped('--only matched no lanes system (sqlite-..., memory-...)');
  const options = { count: countPerTrial, concurrency: HERALD_CONCURRENCY, reps: o.reps, warmup: o.warmup };
  const trials: LanesTrialResult[] = [];
  for (let rep = o.warmup ? 0 : 1; rep <= o.reps && !ctx.signal.aborted; rep++) {
    const warm = rep === 0;
    for (const system of systems) {
      if (ctx.signal.aborted) break;
      const trialStart = nowUs();
      const result = await runLanesTrial({
        system,
        rep,
        count: warm ? Math.max(1000, Math.round(countPerTrial / 5)) : countPerTrial,
        concurrency: options.concurrency,
        name: `${ctx.runId}-lanes-${rep}-${system.id}`,
        dir: ctx.dir,
        cwd: ctx.root,
        timeoutMs: o.timeoutS * 1000,
        signal: ctx.signal,
      });
      if (!warm) trials.push(result);
      const figures = result.ok
        ? `${count(result.throughput ?? Number.NaN)} events/s, ${result.violations ?? '?'} order violation(s)`
        : `FAILED: ${result.error?.split('\n', 1)[0] ?? ''}`;
      process.stderr.write(
        `${warm ? 'warm-up' : `rep ${rep}/${o.reps}`} lanes ${system.id}: ${figures} ` +
          `[${((nowUs() - trialStart) / 1e6).toFixed(1)} s]\n`,
      );
    }
  }
  const report: LanesReport = {
    benchmark: 'lanes',
    env: readMachine(ctx.root, PACKAGES),
    options,
    systems,
    summaries: summarizeLanes(systems, trials),
    goals: lanesGoals(trials),
    trials,
    elapsedS: (nowUs() - started) / 1e6,
    resultsPath: LANES_RESULTS,
  };
  return { id: 'lanes', json: { ...report }, text: textLanes(report) };
}
