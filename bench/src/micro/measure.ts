import { machineBusyUs } from '../proc-stats.ts';
import { MICRO_PATHS, microInput, preparePath, type MicroPathId } from './paths.ts';

/** One timed repetition of one path. */
export interface MicroTrial {
  readonly path: MicroPathId;
  /** 0 is the warm-up (not reported). */
  readonly rep: number;
  readonly count: number;
  readonly ok: boolean;
  readonly error?: string;
  /** Wall time of the loop, ns. */
  readonly wallNs: number;
  /** User + system CPU time of this process over the loop (`process.cpuUsage`), ns. */
  readonly cpuNs: number;
  /** CPU used by other processes of the machine during the loop, in cores: the noise it ran under. */
  readonly backgroundCores: number;
}

/** What {@link measureMicro} runs. */
export interface MicroPlan {
  readonly count: number;
  readonly warmCount: number;
  readonly reps: number;
  /** Whether the warm-up pass runs; off in `--quick`. */
  readonly warmup: boolean;
  readonly paths?: readonly MicroPathId[];
  readonly signal?: AbortSignal;
  /** Called after each trial (progress lines). */
  readonly onTrial?: (trial: MicroTrial) => void;
}

async function timed(path: MicroPathId, rep: number, input: Awaited<ReturnType<typeof microInput>>) {
  const count = input.data.length;
  const prepared = await preparePath(path, input);
  const machineStart = machineBusyUs();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let error: string | undefined;
  try {
    await prepared.run();
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const wallNs = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  const machineUs = machineBusyUs() - machineStart;
  const cpuNs = (used.user + used.system) * 1000;
  await prepared.close();
  error ??= prepared.check();
  const trial: MicroTrial = {
    path,
    rep,
    count,
    ok: error === undefined,
    ...(error === undefined ? {} : { error }),
    wallNs,
    cpuNs,
    backgroundCores: Math.max(0, (machineUs * 1000 - cpuNs) / wallNs),
  };
  return trial;
}

/**
 * Runs a warm-up pass (`warmCount` events per path, so the JIT has compiled the paths; unless `warmup` is
 * false) and `reps` measured
 * passes of `count` events per path, the paths interleaved within each pass. Returns every trial, warm-up
 * included (rep 0); a trial whose checks fail has `ok: false` and its reason.
 */
export async function measureMicro(plan: MicroPlan): Promise<MicroTrial[]> {
  const paths = plan.paths ?? MICRO_PATHS;
  const input = await microInput(plan.count);
  const warmInput = plan.warmup ? await microInput(plan.warmCount) : input;
  const trials: MicroTrial[] = [];
  for (let rep = plan.warmup ? 0 : 1; rep <= plan.reps && plan.signal?.aborted !== true; rep++) {
    for (const path of paths) {
      const trial = await timed(path, rep, rep === 0 ? warmInput : input);
      trials.push(trial);
      plan.onTrial?.(trial);
    }
  }
  return trials;
}
