// B6: the whole shop, orders over HTTP through the full saga, on the embedded broker and on each broker here
// (see report-b6.ts for what is measured and shared/benchmarks.md for the goals).
import {
  kafkaEngine,
  natsEngine,
  rabbitmqEngine,
  sqliteEngine,
  type Engine,
} from '@herald/shop/test/engines';
import { nowUs } from './clock.ts';
import { natsInfo, readMachine } from './environment.ts';
import { runShopTrial, type ShopTrialResult } from './b6/shop-trial.ts';
import { textB6, type B6Engine, type B6Report } from './report-b6.ts';
import { SuiteSkipped, type SuiteContext, type SuiteOutcome } from './suite.ts';

export const B6_RESULTS = 'bench/results/b6.json';

const B6_PACKAGES = [
  '@herald/core',
  '@herald/sqlite',
  '@herald/kafka',
  '@herald/rabbitmq',
  '@herald/nats',
  'better-sqlite3',
  'fastify',
  'tsx',
];

/** The engines B6 runs on, in order. SNS/SQS is left out: here it is an in-process emulator, not a broker. */
export const B6_ENGINES: readonly Engine[] = [sqliteEngine, kafkaEngine, rabbitmqEngine, natsEngine];

/** Seconds of each phase, HTTP clients of the throughput phase, by default. */
export const B6_DEFAULTS = { seconds: 10, connections: 32, rate: 200, drainTimeoutS: 180 } as const;

export async function runB6(ctx: SuiteContext): Promise<SuiteOutcome> {
  const started = nowUs();
  const o = ctx.options;
  // A quick run (CI's smoke check) runs the embedded broker only, in short phases, without a warm-up.
  const all = o.quick ? B6_ENGINES.filter((e) => e.name === 'sqlite') : B6_ENGINES;
  const engines = all.filter(
    (e) => o.only.length === 0 || o.only.some((only) => e.name === only || `b6-${e.name}` === only),
  );
  if (engines.length === 0)
    throw new SuiteSkipped('--only matched no B6 engine (sqlite, kafka, rabbitmq, nats)');
  const options = {
    seconds: o.quick ? 2 : B6_DEFAULTS.seconds,
    connections: B6_DEFAULTS.connections,
    rate: o.quick ? 50 : B6_DEFAULTS.rate,
    drainTimeoutS: B6_DEFAULTS.drainTimeoutS,
  };
  const results: B6Engine[] = [];
  for (const engine of engines) {
    let reason: string | undefined;
    try {
      reason = await engine.unreachable();
    } catch (error) {
      reason = String(error);
    }
    if (reason !== undefined) {
      results.push({ engine: engine.name, skipped: reason, trials: [] });
      continue;
    }
    // A warm-up trial (not counted), then the repetitions, each on a fresh shop.
    const trials: ShopTrialResult[] = [];
    for (let rep = o.quick ? 1 : 0; rep <= o.reps && !ctx.signal.aborted; rep++) {
      const result = await runShopTrial({ engine, ...options, seconds: rep === 0 ? 3 : options.seconds });
      if (rep > 0) trials.push(result);
      console.log(
        `b6 ${engine.name} ${rep === 0 ? 'warm-up' : `rep ${rep}`}: ${Math.round(result.throughput.confirmedPerS)} confirmed/s, ` +
          `p99 ${Math.round(result.latency.p99Ms)} ms at ${options.rate}/s`,
      );
    }
    results.push({ engine: engine.name, trials });
  }
  const nats = await natsInfo();
  const report: B6Report = {
    benchmark: 'B6',
    env: readMachine(ctx.root, B6_PACKAGES),
    servers: [
      ['Kafka', `${process.env.KAFKA_VERSION ?? '4.x'} (scripts/kafka/broker.sh, single-node KRaft)`],
      [
        'nats-server',
        nats === undefined ? 'unreachable' : `${nats.version} (JetStream ${nats.jetstream ? 'on' : 'off'})`,
      ],
    ],
    options: { ...options, reps: o.reps },
    engines: results,
    elapsedS: (nowUs() - started) / 1e6,
    resultsPath: B6_RESULTS,
  };
  return { id: 'b6', json: { ...report }, text: textB6(report) };
}

/** Reads a B6 results JSON back. */
export function b6ReportFromJson(json: Record<string, unknown>): B6Report {
  return json as unknown as B6Report;
}
