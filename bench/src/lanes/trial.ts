import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from '../child.ts';
import { removeDatabase } from '../peers/sqlite-raw-setup.ts';
import type { LanesResult } from './protocol.ts';
import type { LanesSystem } from './systems.ts';

const ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface LanesTrialPlan {
  readonly system: LanesSystem;
  readonly rep: number;
  readonly count: number;
  readonly concurrency: number;
  readonly name: string;
  readonly dir: string;
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

export interface LanesTrialResult {
  readonly system: string;
  readonly transport: LanesSystem['transport'];
  readonly keys: number;
  readonly rep: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly count: number;
  /** Events handled per second: distinct events ÷ (last handler resolved − first handler entry). */
  readonly throughput?: number;
  readonly distinct?: number;
  readonly duplicates?: number;
  readonly violations?: number;
  /** Events stored but never handled. */
  readonly lost?: number;
  readonly cpuUsPerEvent?: number;
  readonly peakRssMb?: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One lanes trial in a fresh process: it stores `count` events (on a fresh sqlite file, or in memory), then one
 * subscription handles them all. Never throws: a failure is a result with `ok: false`.
 */
export async function runLanesTrial(plan: LanesTrialPlan): Promise<LanesTrialResult> {
  const { system } = plan;
  const base = {
    system: system.id,
    transport: system.transport,
    keys: system.keys,
    rep: plan.rep,
    count: plan.count,
  };
  const path = join(plan.dir, `${plan.name}.db`);
  const child = new Child<LanesResult>(
    `lanes ${system.id}`,
    {
      transport: system.transport,
      keys: system.keys,
      count: plan.count,
      concurrency: plan.concurrency,
      path,
    },
    plan.cwd,
    ENTRY,
  );
  const abort = (): void => child.kill();
  plan.signal.addEventListener('abort', abort, { once: true });
  try {
    await withTimeout(child.ready, 60_000, 'the events to be stored');
    child.send({ type: 'start' });
    const r = await withTimeout(child.result, plan.timeoutMs, `${plan.count} events to be handled`);
    return {
      ...base,
      ok: true,
      throughput: r.distinct / ((r.lastUs - r.firstUs) / 1e6),
      distinct: r.distinct,
      duplicates: r.duplicates,
      violations: r.violations,
      lost: plan.count - r.distinct,
      cpuUsPerEvent: r.cpuUs / plan.count,
      peakRssMb: r.maxRssKb / 1024,
    };
  } catch (error) {
    child.kill();
    return { ...base, ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    plan.signal.removeEventListener('abort', abort);
    await child.stop(10_000);
    await removeDatabase(path).catch(() => undefined);
  }
}
