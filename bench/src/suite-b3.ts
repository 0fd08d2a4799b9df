// B3: Herald's RabbitMQ and NATS JetStream transports against raw amqplib and raw nats.js.
import { nowUs } from './clock.ts';
import { compare, type ComparisonSpec } from './comparison.ts';
import { natsInfo, readMachine } from './environment.ts';
import { rabbitmqVersion } from './peers/rabbitmq-config.ts';
import { textB3, type B3Report } from './report-b3.ts';
import { runRepetitions, type SuitePlan } from './runner.ts';
import { selectSystems, SuiteSkipped, systemJson, type SuiteContext, type SuiteOutcome } from './suite.ts';
import { summarize } from './summary.ts';
import { B3_SCENARIOS, b3Systems } from './systems-b3.ts';

export const B3_RESULTS = 'bench/results/b3.json';
/** Events per throughput trial by default: Herald's RabbitMQ transport moves a few thousand a second here. */
export const B3_DEFAULT_COUNT = 20_000;

const PACKAGES = [
  '@herald/core',
  '@herald/rabbitmq',
  '@herald/nats',
  'amqplib',
  '@nats-io/transport-node',
  '@nats-io/jetstream',
  'tsx',
];

/** B3's goals: ≥ 0.9× the raw client's throughput, e2e p99 ≤ 1.1× the raw client's at the same rate. */
function comparisons(herald: string, raw: string, what: string): ComparisonSpec[] {
  return [
    {
      title: `${what}: Herald / raw, events/s`,
      numerator: herald,
      denominator: raw,
      mode: 'throughput',
      metric: 'throughput',
      kind: 'ratio',
      goal: { op: '≥', value: 0.9 },
    },
    {
      title: `${what}: Herald / raw, e2e p99 at the fixed rate`,
      numerator: herald,
      denominator: raw,
      mode: 'latency',
      metric: 'e2eP99',
      kind: 'ratio',
      goal: { op: '≤', value: 1.1 },
    },
    {
      title: `${what}: Herald − raw, client CPU per event (throughput trials)`,
      numerator: herald,
      denominator: raw,
      mode: 'throughput',
      metric: 'clientCpuUs',
      kind: 'difference',
    },
  ];
}

// Like with like first: the raw client on Herald's partitioned topology (the goal's ratio), then the raw client
// on its simplest topology (one queue or subject), which shows what the partitioning itself costs.
const COMPARISONS: readonly ComparisonSpec[] = [
  ...comparisons('herald-rabbitmq', 'amqplib-8q', 'RabbitMQ, 8 queues each'),
  ...comparisons('herald-rabbitmq', 'amqplib', 'RabbitMQ, Herald 8 queues vs raw 1 queue'),
  ...comparisons('herald-nats', 'nats-raw-8p', 'NATS JetStream, 8 subjects each'),
  ...comparisons('herald-nats', 'nats-raw', 'NATS JetStream, Herald 8 subjects vs raw 1 subject'),
];

export async function runB3(ctx: SuiteContext): Promise<SuiteOutcome> {
  const options = { ...ctx.options, count: ctx.options.count ?? B3_DEFAULT_COUNT };
  const started = nowUs();
  const [rabbitmq, nats] = await Promise.all([rabbitmqVersion(), natsInfo()]);
  const skipped: string[] = [];
  let systems = selectSystems(b3Systems(nats?.version), options.only);
  if (systems.length === 0) throw new SuiteSkipped('--only matched no B3 system');
  for (const [broker, up, what] of [
    ['beam.smp', rabbitmq !== undefined, 'RabbitMQ (127.0.0.1:5672)'],
    ['nats-server', nats?.jetstream === true, 'NATS with JetStream (127.0.0.1:4222)'],
  ] as const) {
    const gone = systems.filter((s) => s.broker === broker);
    if (up || gone.length === 0) continue;
    skipped.push(`${gone.map((s) => s.id).join(', ')}: ${what} not reachable; skipped.`);
    systems = systems.filter((s) => s.broker !== broker);
  }
  if (systems.length === 0) throw new SuiteSkipped(`B3: ${skipped.join(' ')}`);
  const env = { ...readMachine(ctx.root, PACKAGES), rabbitmq, nats };
  const plan: SuitePlan = {
    trials: B3_SCENARIOS.flatMap((scenario) => systems.map((system) => ({ system, scenario }))),
    warms: () => true,
    count: (scenario, warm) =>
      scenario.mode === 'latency'
        ? options.rate * (warm ? 1 : options.seconds)
        : Math.max(1000, Math.round(warm ? options.count / 5 : options.count)),
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
  const report: B3Report = {
    benchmark: 'B3',
    options,
    env,
    systems: systems.map((s) => ({ ...s })),
    summaries: summarize(systems, results, B3_SCENARIOS),
    comparisons: compare(results, COMPARISONS),
    skipped,
    elapsedS: (nowUs() - started) / 1e6,
    resultsPath: B3_RESULTS,
  };
  const json = { ...report, systems: systems.map(systemJson), trials: results };
  return { id: 'b3', json, text: textB3(report) };
}
