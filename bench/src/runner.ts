import { nowUs } from './clock.ts';
import { count as formatCount, millis } from './format.ts';
import type { Scenario } from './summary.ts';
import type { System } from './system.ts';
import { failedTrial, runTrial, type TrialResult } from './trial.ts';

/** Resources shared by every system of one scenario within one repetition, and how to remove them. */
export interface Prepared {
  readonly shared: Record<string, string>;
  teardown(): Promise<void>;
}

/** What a suite runs, the same in every repetition: the order of `trials` is the interleaving. */
export interface SuitePlan {
  readonly trials: readonly { readonly system: System; readonly scenario: Scenario }[];
  /** Events of one trial of the scenario (smaller in the warm-up). */
  count(scenario: Scenario, warm: boolean): number;
  /** Whether the warm-up pass runs the scenario. */
  warms(scenario: Scenario): boolean;
  /** Creates what the systems of a scenario share in a repetition (B2: the topic its consumers read). */
  prepare?(scenario: Scenario, name: string, count: number): Promise<Prepared | undefined>;
}

export interface RunContext {
  readonly runId: string;
  readonly reps: number;
  /** Whether the warm-up pass (repetition 0) runs; off in `--quick`. */
  readonly warmup: boolean;
  readonly rate: number;
  readonly dir: string;
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

function describe(result: TrialResult): string {
  if (!result.ok) return `FAILED: ${result.error?.split('\n', 1)[0] ?? ''}`;
  if (result.e2eMs) return `p50 ${millis(result.e2eMs.p50)} ms, p99 ${millis(result.e2eMs.p99)} ms`;
  const rate = `${formatCount(result.throughput)} events/s`;
  if (!result.publishMs) return rate;
  return `${rate}, publish p50 ${millis(result.publishMs.p50)} ms, p99 ${millis(result.publishMs.p99)} ms`;
}

/**
 * Runs a warm-up pass (repetition 0, not reported; skipped when `ctx.warmup` is false) and `reps` measured passes
 * of the plan's trials, in order, printing one line per trial. Stops early when the signal aborts; returns the measured results.
 */
export async function runRepetitions(plan: SuitePlan, ctx: RunContext): Promise<TrialResult[]> {
  const results: TrialResult[] = [];
  for (let rep = ctx.warmup ? 0 : 1; rep <= ctx.reps && !ctx.signal.aborted; rep++) {
    const warm = rep === 0;
    const trials = plan.trials.filter((t) => !warm || plan.warms(t.scenario));
    let prepared: { scenario: Scenario; value: Prepared | undefined; error?: unknown } | undefined;
    const release = async (): Promise<void> => {
      await prepared?.value?.teardown().catch(() => undefined);
      prepared = undefined;
    };
    try {
      for (const [i, { system, scenario }] of trials.entries()) {
        if (ctx.signal.aborted) break;
        const count = plan.count(scenario, warm);
        const trialStart = nowUs();
        const name = `${ctx.runId}-${rep}-${system.id}-${scenario.variant}-${scenario.mode}`;
        if (prepared?.scenario !== scenario) {
          await release();
          try {
            prepared = {
              scenario,
              value: await plan.prepare?.(scenario, `${ctx.runId}-${rep}-${scenario.mode}`, count),
            };
          } catch (error) {
            prepared = { scenario, value: undefined, error };
          }
        }
        const result =
          prepared.error === undefined
            ? await runTrial({
                system,
                variant: scenario.variant,
                mode: scenario.mode,
                rep,
                count,
                rate: ctx.rate,
                name,
                dir: ctx.dir,
                cwd: ctx.cwd,
                timeoutMs: ctx.timeoutMs,
                signal: ctx.signal,
                shared: prepared.value?.shared ?? {},
              })
            : failedTrial(system.id, scenario.variant, scenario.mode, rep, count, prepared.error);
        if (!warm) results.push(result);
        process.stderr.write(
          `${warm ? 'warm-up' : `rep ${rep}/${ctx.reps}`} ${scenario.variant} ${scenario.mode} ` +
            `${system.id}: ${describe(result)} [${((nowUs() - trialStart) / 1e6).toFixed(1)} s]\n`,
        );
        if (trials[i + 1]?.scenario !== scenario) await release();
      }
    } finally {
      await release();
    }
  }
  return results;
}
