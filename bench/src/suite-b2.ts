// B2: Herald's Kafka transport against raw @platformatic/kafka and raw kafkajs.
import { readFileSync } from 'node:fs';
import { nowUs } from './clock.ts';
import { compare, type ComparisonSpec } from './comparison.ts';
import { readMachine } from './environment.ts';
import { kafkaReachable } from './peers/kafka-admin.ts';
import { KAFKA_BROKERS, KAFKA_PAYLOAD_BYTES, KAFKA_PORT } from './peers/kafka-config.ts';
import { kafkaPrepareConsume } from './peers/kafka-setup.ts';
import { pidListeningOn } from './proc-stats.ts';
import type { Mode } from './protocol.ts';
import { textB2, type B2Report } from './report-b2.ts';
import { runRepetitions, type SuitePlan } from './runner.ts';
import { selectSystems, SuiteSkipped, systemJson, type SuiteContext, type SuiteOutcome } from './suite.ts';
import { summarize } from './summary.ts';
import { B2_SCENARIOS, b2Systems } from './systems-b2.ts';

export const B2_RESULTS = 'bench/results/b2.json';
/** Events per consume trial by default (B2 specifies 100k); the publish trials are scaled from it. */
export const B2_DEFAULT_COUNT = 100_000;

const PACKAGES = ['@herald/core', '@herald/kafka', '@platformatic/kafka', 'kafkajs', 'tsx'];

/** Events of a trial: `count` for consume, a quarter for batches, a hundredth for single publishes. */
export function b2Count(mode: Mode, count: number, warm: boolean): number {
  const full = mode === 'publish-one' ? count / 100 : mode === 'publish-batch' ? count / 4 : count;
  return Math.max(100, Math.round(warm ? full / 5 : full));
}

const MODES: readonly [Mode, string][] = [
  ['publish-one', 'single publish'],
  ['publish-batch', `batches`],
  ['consume', 'consume'],
];

/** B2's goals: ≥ 0.9× the raw client's throughput, ≥ 1.3× kafkajs, ≤ 2 µs CPU added per event. */
const COMPARISONS: readonly ComparisonSpec[] = MODES.flatMap(([mode, what]): ComparisonSpec[] => [
  {
    title: `${what}: Herald / raw @platformatic/kafka, events/s`,
    numerator: 'herald-kafka',
    denominator: 'kafka-raw',
    mode,
    metric: 'throughput',
    kind: 'ratio',
    goal: { op: '≥', value: 0.9 },
  },
  {
    title: `${what}: Herald / kafkajs, events/s`,
    numerator: 'herald-kafka',
    denominator: 'kafkajs',
    mode,
    metric: 'throughput',
    kind: 'ratio',
    goal: { op: '≥', value: 1.3 },
  },
  {
    title: `${what}: Herald − raw @platformatic/kafka, client CPU per event`,
    numerator: 'herald-kafka',
    denominator: 'kafka-raw',
    mode,
    metric: 'clientCpuUs',
    kind: 'difference',
    goal: { op: '≤', value: 2 },
  },
  {
    title: `${what}: Herald − kafkajs, client CPU per event`,
    numerator: 'herald-kafka',
    denominator: 'kafkajs',
    mode,
    metric: 'clientCpuUs',
    kind: 'difference',
  },
]);

/** The broker's version, from its class path (`…/<version>/lib/*` as scripts/kafka/broker.sh lays it out). */
function kafkaVersion(): string {
  const pid = pidListeningOn(KAFKA_PORT);
  if (pid === undefined) return 'unknown';
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return /\/(\d+\.\d+\.\d+)\/lib\//.exec(cmdline)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function runB2(ctx: SuiteContext): Promise<SuiteOutcome> {
  const options = { ...ctx.options, count: ctx.options.count ?? B2_DEFAULT_COUNT };
  const systems = selectSystems(b2Systems(), options.only);
  if (systems.length === 0) throw new SuiteSkipped('--only matched no B2 system');
  if (!(await kafkaReachable())) {
    throw new SuiteSkipped(
      `Kafka is not reachable at ${KAFKA_BROKERS.join(', ')}: start it with \`bash scripts/kafka/broker.sh start\` ` +
        '(and `stop` afterwards); B2 did not run and its results were left as they were.',
    );
  }
  const started = nowUs();
  const env = {
    ...readMachine(ctx.root, PACKAGES),
    kafka: { version: kafkaVersion(), brokers: KAFKA_BROKERS },
  };
  const plan: SuitePlan = {
    trials: B2_SCENARIOS.flatMap((scenario) => systems.map((system) => ({ system, scenario }))),
    warms: () => true,
    count: (scenario, warm) => b2Count(scenario.mode, options.count, warm),
    prepare: (scenario, name, count) =>
      scenario.mode === 'consume'
        ? kafkaPrepareConsume(name, count, KAFKA_PAYLOAD_BYTES)
        : Promise.resolve(undefined),
  };
  const results = await runRepetitions(plan, {
    runId: ctx.runId,
    reps: options.reps,
    warmup: options.warmup,
    rate: options.rate,
    dir: ctx.dir,
    cwd: ctx.root,
    timeoutMs: options.timeoutS * 1000,
    signal: ctx.signal,
  });
  const report: B2Report = {
    benchmark: 'B2',
    options,
    env,
    counts: Object.fromEntries(B2_SCENARIOS.map((s) => [s.mode, b2Count(s.mode, options.count, false)])),
    systems: systems.map((s) => ({ ...s })),
    summaries: summarize(systems, results, B2_SCENARIOS),
    comparisons: compare(results, COMPARISONS),
    elapsedS: (nowUs() - started) / 1e6,
    resultsPath: B2_RESULTS,
  };
  const json = { ...report, systems: systems.map(systemJson), trials: results };
  return { id: 'b2', json, text: textB2(report) };
}
