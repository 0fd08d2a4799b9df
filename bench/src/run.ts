// `npm run bench`: B1 (the embedded transport across processes), B2 (Kafka), B3 (RabbitMQ, NATS JetStream),
// B5 (tracing cost);
// writes bench/results/<suite>.json and regenerates docs/benchmarks.md from every results file.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchmarksDoc, resultsPath } from './docs.ts';
import { parseOptions, USAGE, type SuiteId } from './options.ts';
import { SuiteSkipped, type SuiteContext, type SuiteOutcome } from './suite.ts';
import { runB1 } from './suite-b1.ts';
import { runB2 } from './suite-b2.ts';
import { runB3 } from './suite-b3.ts';
import { runB5 } from './suite-b5.ts';
import { runB6 } from './suite-b6.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = join(ROOT, 'docs', 'benchmarks.md');

const RUNNERS: Record<SuiteId, (ctx: SuiteContext) => Promise<SuiteOutcome>> = {
  b1: runB1,
  b2: runB2,
  b3: runB3,
  b5: runB5,
  b6: runB6,
};

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (options.docsOnly) {
    await writeFile(DOC, benchmarksDoc(ROOT));
    process.stdout.write('Wrote docs/benchmarks.md from bench/results/\n');
    return;
  }
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
      const path = resultsPath(ROOT, id);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, `${JSON.stringify(outcome.json, null, 2)}\n`);
      written.push(relative(ROOT, path));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (written.length > 0) {
    await writeFile(DOC, benchmarksDoc(ROOT));
    process.stdout.write(`Wrote ${written.join(', ')} and docs/benchmarks.md\n`);
  }
  for (const note of skipped) process.stdout.write(`${note}\n`);
  if (interrupt.signal.aborted) process.exitCode = 130;
  else if (skipped.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
