// B4: the outbox on PostgreSQL (see report-b4.ts and b4/): Herald's outbox and relay against a bare SKIP LOCKED
// loop and graphile-worker, every system relaying to Herald's sqlite transport and consumed through the inbox.
import { benchPool, DATABASE_URL, postgresInfo } from './b4/database.ts';
import { B4_SYSTEMS } from './b4/systems.ts';
import { b4Schemas, createTables, dropTables } from './b4/tables.ts';
import { runB4Trial, type B4TrialResult } from './b4/trial.ts';
import { nowUs } from './clock.ts';
import { readMachine } from './environment.ts';
import { count, millis } from './format.ts';
import { b4Goals, summarizeB4, textB4, type B4Report } from './report-b4.ts';
import { SuiteSkipped, type SuiteContext, type SuiteOutcome } from './suite.ts';

export const B4_RESULTS = 'bench/results/b4.json';

/**
 * B4's own sizes (not `--count`/`--rate`: commits are fsynced, so this machine commits a few hundred
 * transactions a second, far below the broker suites' rates): transactions of the throughput phase, offered rate
 * of the latency phase. `--seconds` sets the latency phase's length.
 */
export const B4_DEFAULTS = { count: 5000, rate: 200 } as const;
/** `--quick`: a few seconds per system. */
export const B4_QUICK = { count: 100, rate: 100 } as const;

const PACKAGES = [
  '@herald/core',
  '@herald/postgres',
  '@herald/sqlite',
  'pg',
  'graphile-worker',
  'better-sqlite3',
  'tsx',
];

/**
 * Runs B4: creates each system's schemas, runs the warm-up and measured trials (systems interleaved), and drops the
 * schemas whatever happened. Skipped (`SuiteSkipped`) when PostgreSQL cannot be reached.
 */
export async function runB4(ctx: SuiteContext): Promise<SuiteOutcome> {
  const started = nowUs();
  const o = ctx.options;
  const postgres = await postgresInfo();
  if (postgres === undefined) throw new SuiteSkipped(`PostgreSQL unreachable at ${DATABASE_URL}`);
  const systems = B4_SYSTEMS.filter((s) => o.only.length === 0 || o.only.some((x) => s.id.startsWith(x)));
  if (systems.length === 0) throw new SuiteSkipped('--only matched no B4 system');
  const sizes = o.quick ? B4_QUICK : B4_DEFAULTS;
  const options = { ...sizes, seconds: o.seconds, reps: o.reps, warmup: o.warmup };
  const pool = benchPool(2);
  const trials: B4TrialResult[] = [];
  const created: ReturnType<typeof b4Schemas>[] = [];
  try {
    for (const system of systems) {
      const schemas = b4Schemas(ctx.runId, system.id);
      created.push(schemas);
      await createTables(pool, system.id, schemas);
    }
    for (let rep = o.warmup ? 0 : 1; rep <= o.reps && !ctx.signal.aborted; rep++) {
      const warm = rep === 0;
      for (const system of systems) {
        if (ctx.signal.aborted) break;
        const trialStart = nowUs();
        const result = await runB4Trial({
          system: system.id,
          schemas: b4Schemas(ctx.runId, system.id),
          rep,
          count: warm ? Math.max(100, Math.round(options.count / 5)) : options.count,
          rate: options.rate,
          seconds: warm ? 1 : options.seconds,
          name: `${ctx.runId}-b4-${rep}-${system.id}`,
          dir: ctx.dir,
          cwd: ctx.root,
          timeoutMs: o.timeoutS * 1000,
          signal: ctx.signal,
          pool,
        });
        if (!warm) trials.push(result);
        const figures = result.ok
          ? `${count(result.throughput ?? Number.NaN)} tx/s, commit→handler p50 ` +
            `${millis(result.latency?.p50 ?? Number.NaN)} ms, p99 ${millis(result.latency?.p99 ?? Number.NaN)} ms, ` +
            `queue rows ${result.table?.start.rows ?? '?'} → ${result.table?.end.rows ?? '?'}`
          : `FAILED: ${result.error?.split('\n', 1)[0] ?? ''}`;
        process.stderr.write(
          `${warm ? 'warm-up' : `rep ${rep}/${o.reps}`} b4 ${system.id}: ${figures} ` +
            `[${((nowUs() - trialStart) / 1e6).toFixed(1)} s]\n`,
        );
      }
    }
  } finally {
    for (const schemas of created) await dropTables(pool, schemas).catch(() => undefined);
    await pool.end();
  }
  const herald = systems.find((s) => s.herald)?.id;
  const report: B4Report = {
    benchmark: 'B4',
    env: readMachine(ctx.root, PACKAGES),
    postgres,
    options,
    systems,
    summaries: summarizeB4(systems, trials),
    goals:
      herald === undefined
        ? []
        : b4Goals(
            herald,
            systems.filter((s) => !s.herald).map((s) => s.id),
            trials,
          ),
    trials,
    skipped: [],
    elapsedS: (nowUs() - started) / 1e6,
    resultsPath: B4_RESULTS,
  };
  return { id: 'b4', json: { ...report }, text: textB4(report) };
}
