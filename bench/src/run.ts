// `npm run bench`: B1 (the embedded transport across processes), B2 (Kafka), B3 (RabbitMQ, NATS JetStream),
// B4 (the outbox on PostgreSQL), B5 (tracing cost), B6 (the shop), lanes (order per key vs unordered), micro (the
// core per event, transport stubbed);
// writes bench/results/<suite>.json and regenerates docs/benchmarks.md and its chart from every results file.
// `--quick` writes to bench/.scratch/quick/ instead and checks every trial.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchmarkChart } from './chart/write-chart.ts';
import { benchmarksDoc, readResults, RESULTS_DIR, resultsPath } from './docs.ts';
import { parseOptions, QUICK_RESULTS_DIR, USAGE, type Options, type SuiteId } from './options.ts';
import { quickProblems } from './quick-check.ts';
import { SuiteSkipped, type SuiteContext, type SuiteOutcome } from './suite.ts';
import { runB1 } from './suite-b1.ts';
import { runB2 } from './suite-b2.ts';
import { runB3 } from './suite-b3.ts';
import { runB4 } from './suite-b4.ts';
import { runB5 } from './suite-b5.ts';
import { runB6 } from './suite-b6.ts';
import { runLanes } from './suite-lanes.ts';
import { runMicro } from './suite-micro.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = join(ROOT, 'docs', 'benchmarks.md');
const CHART = join(ROOT, 'docs', 'images', 'benchmark-ratios.svg');

const RUNNERS: Record<SuiteId, (ctx: SuiteContext) => Promise<SuiteOutcome>> = {
  b1: runB1,
  b2: runB2,
  b3: runB3,
  b4: runB4,
  b5: runB5,
  b6: runB6,
  lanes: runLanes,
  micro: runMicro,
};

/**
 * The page and the chart of the results in `dir`: docs/benchmarks.md and docs/images/benchmark-ratios.svg for the
 * real results, `benchmarks.md` and `benchmark-ratios.svg` beside the results for `--quick`.
 */
async function writeDocs(options: Options, dir: string): Promise<string[]> {
  const [doc, chart] = options.quick
    ? [join(dir, 'benchmarks.md'), join(dir, 'benchmark-ratios.svg')]
    : [DOC, CHART];
  await mkdir(dirname(chart), { recursive: true });
  await writeFile(chart, benchmarkChart(readResults(dir)));
  const page = benchmarksDoc(dir, relative(dirname(doc), chart));
  await writeFile(
    doc,
    options.quick
      ? page.replace(
          /^# Benchmarks\n/,
          '# Benchmarks: quick smoke run (tiny counts; not figures to compare)\n',
        )
      : page,
  );
  return [relative(ROOT, doc), relative(ROOT, chart)];
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  const resultsDir = join(ROOT, options.quick ? QUICK_RESULTS_DIR : RESULTS_DIR);
  if (options.docsOnly) {
    const wrote = await writeDocs(options, resultsDir);
    process.stdout.write(`Wrote ${wrote.join(' and ')} from ${RESULTS_DIR}/\n`);
    return;
  }
  const started = Date.now();
  // A quick run's page and chart show this run only, not suites left from an earlier one.
  if (options.quick) rmSync(resultsDir, { recursive: true, force: true });
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  // Ctrl-C: stop the running trial (its teardown still removes its queue, stream or topic), then report.
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`${signal}: stopping after cleaning up the current trial\n`);
      interrupt.abort();
    });
  }
  const skipped: string[] = [];
  const problems: string[] = [];
  const written: string[] = [];
  try {
    for (const id of options.suites) {
      if (interrupt.signal.aborted) break;
      process.stderr.write(`== ${id.toUpperCase()}\n`);
      let outcome: SuiteOutcome;
      try {
        outcome = await RUNNERS[id]({ root: ROOT, options, runId, dir, signal: interrupt.signal });
      } catch (error) {
        if (!(error instanceof SuiteSkipped)) throw error;
        skipped.push(`${id.toUpperCase()} skipped: ${error.message}`);
        process.stderr.write(`${skipped.at(-1)!}\n`);
        continue;
      }
      process.stdout.write(`${outcome.text}\n\n`);
      if (interrupt.signal.aborted) {
        // A partial run must not replace the last complete results.
        process.stdout.write(`(${id} interrupted: its results were left as they were)\n`);
        break;
      }
      const path = resultsPath(resultsDir, id);
      await mkdir(dirname(path), { recursive: true });
      const json = { ...outcome.json, resultsPath: relative(ROOT, path) };
      await writeFile(path, `${JSON.stringify(json, null, 2)}\n`);
      written.push(relative(ROOT, path));
      if (options.quick) {
        const found = quickProblems(id, json);
        problems.push(...found);
        // Systems a suite left out because their server is down (B1, B3) count as skipped too.
        const left = Array.isArray(outcome.json.skipped) ? (outcome.json.skipped as string[]) : [];
        skipped.push(...left.map((note) => `${id.toUpperCase()}: ${note}`));
        process.stdout.write(
          found.length === 0
            ? `${id}: every trial counted all its events, no error\n\n`
            : `${id}: ${found.length} problem(s):\n${found.map((p) => `  ${p}`).join('\n')}\n\n`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (written.length > 0) {
    const wrote = await writeDocs(options, resultsDir);
    process.stdout.write(`Wrote ${[...written, ...wrote].join(', ')}\n`);
  }
  for (const note of skipped) process.stdout.write(`${note}\n`);
  if (options.quick) {
    process.stdout.write(
      `Quick run: ${((Date.now() - started) / 1000).toFixed(1)} s, ${written.length} suite(s) checked, ` +
        `${skipped.length} skipped, ${problems.length} problem(s). Smoke figures only: not comparable to ` +
        `${RESULTS_DIR}/.\n`,
    );
  }
  // A skipped suite fails a full run (its results would be stale) and a quick run in CI, where every server is
  // started first; a quick run elsewhere only says what it skipped.
  const skipFails = !options.quick || process.env.CI === 'true';
  if (interrupt.signal.aborted) process.exitCode = 130;
  else if (problems.length > 0 || (skipped.length > 0 && skipFails)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
