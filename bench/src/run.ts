// `npm run bench`: B1, the embedded transport across processes (see docs/benchmarks.md, generated here).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nowUs } from './clock.ts';
import { readEnvironment } from './environment.ts';
import { count } from './format.ts';
import { parseOptions, USAGE, type Options } from './options.ts';
import { loadHeraldSqlite } from './peers/herald-sqlite.ts';
import { markdownReport } from './report-markdown.ts';
import { textReport } from './report-text.ts';
import { latencyGoals, ratios, SCENARIOS, summarize, type Scenario } from './summary.ts';
import type { System } from './system.ts';
import { b1Systems } from './systems.ts';
import { runTrial, type TrialResult } from './trial.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results', 'b1.json');
const DOC = join(ROOT, 'docs', 'benchmarks.md');

function selectSystems(all: readonly System[], options: Options): System[] {
  if (options.only.length === 0) return [...all];
  const chosen = all.filter((s) => options.only.some((o) => s.id === o || s.id.startsWith(o)));
  if (chosen.length === 0) {
    throw new Error(`--only matched no system; known: ${all.map((s) => s.id).join(', ')}`);
  }
  return chosen;
}

/** The trials of one pass: every scenario, and within it every system (so systems interleave). */
function pass(
  systems: readonly System[],
  scenarios: readonly Scenario[],
  options: Options,
): { system: System; scenario: Scenario }[] {
  const runs = (system: System, scenario: Scenario): boolean =>
    system.variants.includes(scenario.variant) &&
    (scenario.variant === 'single' || options.peerVariants || system.broker === undefined);
  return scenarios.flatMap((scenario) =>
    systems.filter((s) => runs(s, scenario)).map((system) => ({ system, scenario })),
  );
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  const started = nowUs();
  const env = await readEnvironment(ROOT);
  const heraldAvailable = (await loadHeraldSqlite()) !== undefined;
  const skipped: string[] = [];
  if (!heraldAvailable)
    skipped.push('Herald: @herald/sqlite does not export sqlite() yet; ran the peers only.');
  let systems = selectSystems(b1Systems(env, heraldAvailable), options);
  for (const [broker, up] of [
    ['redis-server', env.redis !== undefined],
    ['nats-server', env.nats?.jetstream === true],
  ] as const) {
    if (up) continue;
    const gone = systems.filter((s) => s.broker === broker);
    if (gone.length > 0)
      skipped.push(`${gone.map((s) => s.id).join(', ')}: ${broker} not reachable; skipped.`);
    systems = systems.filter((s) => s.broker !== broker);
  }
  const scenarios = SCENARIOS.filter((s) => options.variants.includes(s.variant));
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  // Ctrl-C: stop the running trial (its teardown still removes its queue or stream), then report what ran.
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`${signal}: stopping after cleaning up the current trial\n`);
      interrupt.abort();
    });
  }

  const results: TrialResult[] = [];
  const trials = pass(systems, scenarios, options);
  const warmCount = Math.max(2000, Math.round(options.count / 5));
  try {
    // rep 0 is the warm-up: smaller, single variant only, not reported.
    for (let rep = 0; rep <= options.reps && !interrupt.signal.aborted; rep++) {
      const warm = rep === 0;
      for (const { system, scenario } of trials) {
        if (interrupt.signal.aborted) break;
        if (warm && scenario.variant !== 'single') continue;
        const latency = scenario.mode === 'latency';
        const trialStart = nowUs();
        const seconds = warm ? 1 : options.seconds;
        const result = await runTrial({
          system,
          variant: scenario.variant,
          mode: scenario.mode,
          rep,
          count: latency ? options.rate * seconds : warm ? warmCount : options.count,
          rate: options.rate,
          name: `${runId}-${rep}-${system.id}-${scenario.variant}-${scenario.mode}`,
          dir,
          cwd: ROOT,
          timeoutMs: options.timeoutS * 1000,
          signal: interrupt.signal,
        });
        if (!warm) results.push(result);
        const what = result.ok
          ? latency
            ? `p50 ${result.e2eMs!.p50.toFixed(2)} ms, p99 ${result.e2eMs!.p99.toFixed(2)} ms`
            : `${count(result.throughput)} events/s`
          : `FAILED: ${result.error?.split('\n', 1)[0] ?? ''}`;
        process.stderr.write(
          `${warm ? 'warm-up' : `rep ${rep}/${options.reps}`} ${scenario.variant} ${scenario.mode} ` +
            `${system.id}: ${what} [${((nowUs() - trialStart) / 1e6).toFixed(1)} s]\n`,
        );
      }
    }
  } finally {
    cleanup();
  }

  const summaries = summarize(systems, results);
  const report = {
    options,
    env,
    systems,
    summaries,
    ratios: ratios(results),
    latencyGoals: latencyGoals(summaries),
    heraldAvailable,
    skipped,
    elapsedS: (nowUs() - started) / 1e6,
    resultsPath: relative(ROOT, RESULTS),
  };
  const json = {
    benchmark: 'B1',
    ...report,
    systems: systems.map((s) => ({
      id: s.id,
      label: s.label,
      durability: s.durabilityLabel,
      broker: s.broker,
      variants: s.variants,
      batch: s.batch,
      window: s.window,
      notes: s.notes,
    })),
    trials: results,
  };
  if (interrupt.signal.aborted) {
    // A partial run must not replace the last complete report.
    process.stdout.write(
      `${textReport(report)}\n\n(interrupted: docs/benchmarks.md and ${report.resultsPath} left as they were)\n`,
    );
    process.exitCode = 130;
    return;
  }
  await mkdir(join(ROOT, 'bench', 'results'), { recursive: true });
  await writeFile(RESULTS, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(DOC, markdownReport(report));
  process.stdout.write(`${textReport(report)}\n\nWrote docs/benchmarks.md and ${report.resultsPath}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
