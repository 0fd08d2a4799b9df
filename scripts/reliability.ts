// `npm run reliability`: runs the system fault tests (SIGKILL storms, broker and PostgreSQL restarts, poison
// floods, overloads) on every engine, then writes their figures into docs/reliability.md (between the
// `reliability` markers) with the machine and versions of the run. The page changes only when every test
// passed, so it never shows a partial run.
//
//   npm run reliability                          every test, every engine
//   npm run reliability -- --engines=sqlite,nats  only these engines
//   npm run reliability -- --render-only          rewrite the page from the figures already measured
//   HERALD_STORM_SECONDS=300 npm run reliability  a longer storm (default 45 s embedded, 30 s on brokers)
//
// The soak (`npm run soak`) runs apart, for minutes; its figures, when present, are kept and shown too.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from 'prettier';
import { FIGURES_DIR, parseFiguresName, readFigures } from './reliability/figures.ts';
import { renderFigures, withFigures, type RunContext } from './reliability/render.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOC = join(ROOT, 'docs', 'reliability.md');
const TESTS_DIR = join(ROOT, 'shop', 'test');
/** The system fault tests, by file name: `<kind>-<engine>[.exclusive].e2e.test.ts`. */
const FAULT_TEST =
  /^(storm|broker-restart|postgres-restart|poison-flood|overload)-?([a-z0-9]*)(\.exclusive)?\.e2e\.test\.ts$/;

function option(name: string): string | undefined {
  const arg = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : (arg.split('=')[1] ?? '');
}

/** A command's first output line, or undefined when it is missing or slow. */
function probe(command: string, args: readonly string[]): string | undefined {
  try {
    const out = execFileSync(command, args, {
      timeout: 20_000,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

function context(renderOnly: boolean): RunContext {
  const cpu = cpus();
  const kafka =
    process.env.KAFKA_VERSION ??
    /KAFKA_VERSION:-([\d.]+)/.exec(readFileSync(join(ROOT, 'scripts/kafka/broker.sh'), 'utf8'))?.[1];
  const versions = [
    `Node ${process.version}`,
    kafka === undefined ? undefined : `Kafka ${kafka} (KRaft, single node)`,
    ((v) => (v === undefined ? undefined : `RabbitMQ ${v}`))(probe('rabbitmqctl', ['version'])),
    ((v) => (v === undefined ? undefined : `NATS ${v.replace(/^nats-server:\s*/, '')}`))(
      probe('nats-server', ['--version']),
    ),
    ((v) => (v === undefined ? undefined : `PostgreSQL ${v}`))(
      probe('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'test', '-Atc', 'show server_version']),
    ),
  ].filter((v): v is string => v !== undefined);
  return {
    date: new Date().toISOString().slice(0, 10),
    machine: `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, ${type()} ${release()}`,
    versions,
    command: renderOnly
      ? 'the system fault tests (run by `npm test` and `npm run reliability`; this page by `npm run reliability -- --render-only`)'
      : '`npm run reliability`',
  };
}

function faultTests(engines: readonly string[] | undefined): string[] {
  return readdirSync(TESTS_DIR)
    .filter((file) => {
      const match = FAULT_TEST.exec(file);
      if (match === null) return false;
      const engine = match[2] === '' ? 'sqlite' : match[2]!;
      return engines === undefined || engines.includes(engine);
    })
    .sort()
    .map((file) => join('shop', 'test', file));
}

async function render(renderOnly: boolean): Promise<void> {
  const doc = readFileSync(DOC, 'utf8');
  const section = renderFigures(readFigures(), context(renderOnly));
  writeFileSync(DOC, await withFigures(doc, section, (await resolveConfig(DOC)) ?? {}));
  console.log(`docs/reliability.md: figures written from ${FIGURES_DIR}`);
}

if (option('render-only') === undefined) {
  const engines = option('engines')?.split(',').filter(Boolean);
  const files = faultTests(engines);
  if (files.length === 0) {
    console.error(`no system fault tests match --engines=${engines?.join(',') ?? ''}`);
    process.exit(2);
  }
  mkdirSync(FIGURES_DIR, { recursive: true });
  // Only this run's figures reach the page: earlier ones (bar the soak's, which runs apart) are removed first.
  for (const file of readdirSync(FIGURES_DIR, { withFileTypes: true }).map((d) => d.name)) {
    const name = parseFiguresName(file);
    if (name !== undefined && name.kind !== 'soak') rmSync(join(FIGURES_DIR, file));
  }
  console.log(`== running ${files.length} system fault tests:\n  ${files.join('\n  ')}`);
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'test.mjs'), ...files], {
    cwd: ROOT,
    stdio: 'inherit',
    env: process.env,
  });
  if (run.status !== 0) {
    console.error('!! a system fault test failed: docs/reliability.md is left as it was');
    process.exit(run.status ?? 1);
  }
}
await render(option('render-only') !== undefined);
