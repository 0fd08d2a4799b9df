import type { Variant } from './protocol.ts';

/** The benchmarks of shared/benchmarks.md that `npm run bench` runs, and the core's micro-benchmark. */
export type SuiteId = 'b1' | 'b2' | 'b3' | 'b4' | 'b5' | 'b6' | 'lanes' | 'micro';
export const SUITES: readonly SuiteId[] = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'lanes', 'micro'];

/** What `--quick` sets, unless the flag is given too: tiny trials, enough to see every system work. */
export const QUICK = { count: 2000, reps: 1, rate: 500, seconds: 1, timeoutS: 60 } as const;
const QUICK_FLAGS =
  `--count ${QUICK.count}, --reps ${QUICK.reps}, --rate ${QUICK.rate}, --seconds ${QUICK.seconds}, ` +
  `--timeout ${QUICK.timeoutS}`;

export interface Options {
  readonly suites: readonly SuiteId[];
  /**
   * Events per throughput trial (B1, B3) or per consume trial (B2, which scales its publish trials from it);
   * each suite's default when not given.
   */
  readonly count: number | undefined;
  /** Measured repetitions (a warm-up pass runs first). */
  readonly reps: number;
  /** Offered rate of the latency trials, events/s. */
  readonly rate: number;
  /** Length of a latency trial, s. */
  readonly seconds: number;
  /** System ids or id prefixes to run (`herald`, `sqlite-raw-d1`, `bullmq`...); empty: all. */
  readonly only: readonly string[];
  readonly variants: readonly Variant[];
  /** Also run the broker peers (BullMQ, JetStream) in the competing and groups variants. */
  readonly peerVariants: boolean;
  /** Per-trial time limit, s. */
  readonly timeoutS: number;
  /** Run nothing: regenerate docs/benchmarks.md from the results files present. */
  readonly docsOnly: boolean;
  /**
   * The smoke run: every suite with tiny counts and no warm-up pass, each trial checked (every event counted, no
   * error), results written to {@link QUICK_RESULTS_DIR}, never to bench/results/ or docs/benchmarks.md.
   */
  readonly quick: boolean;
  /** Whether a warm-up pass (repetition 0, not reported) runs first; off in `--quick`. */
  readonly warmup: boolean;
  readonly help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]

  --suite LIST     comma-separated: b1, b2, b3, b4, b5, b6, lanes, micro or all (default all)
                     b1: the embedded transport across processes (sqlite) vs raw SQLite, BullMQ, JetStream
                     b2: the Kafka transport vs raw @platformatic/kafka and kafkajs (needs the broker of
                         scripts/kafka/broker.sh on 127.0.0.1:19092; the bench does not start it)
                     b3: the RabbitMQ and NATS JetStream transports vs raw amqplib and nats.js
                     b4: the outbox on PostgreSQL (127.0.0.1:5432/test, or BENCH_DATABASE_URL): Herald's
                         outbox + relay vs a bare SKIP LOCKED loop and graphile-worker, relaying to the sqlite
                         transport, consumed through the inbox: tx/s handled, commit→handler p50/p99, table
                         size. Its own sizes: 5,000 tx, then 200 tx/s for --seconds (--quick: 100, 100/s)
                     b5: tracing cost: Herald's publisher and router on the sqlite transport (D1), with the
                         OpenTelemetry SDK (100% sampling, batch processor) vs untraced
                     b6: the whole shop (four services, full saga) over HTTP on sqlite, Kafka, RabbitMQ and
                         NATS: confirmed orders/s under an overload, order→outcome p50/p99 at 200/s, memory
                     lanes: order per key with parallel keys (10, 100, 1,000 keys) vs the same consumer
                         unordered, on the sqlite and memory transports; counts order violations
                     micro: the core's publish and dispatch paths per event, on a stub transport (no I/O)
  --count N        b1, b3, b5: events per throughput trial (default b1 100000, b3 20000, b5 20000);
                   lanes: events per trial (default 20000);
                   micro: events per path per repetition (default 50000);
                   b2: events per consume trial (default 100000), batch trials get N/4, single-publish N/100
                   (env BENCH_COUNT)
  --reps N         measured repetitions after the warm-up (env BENCH_REPS, default 5)
  --rate N         offered rate of the latency trials (b1, b3, b5), events/s (default 1000)
  --seconds N      length of a latency trial, s (default 5)
  --only LIST      comma-separated system ids or prefixes: sqlite-raw, bullmq, jetstream, herald, kafka-raw,
                   kafkajs, herald-kafka, amqplib, herald-rabbitmq, nats-raw, herald-nats...
  --variants LIST  b1: comma-separated single,competing,groups (default all)
  --peer-variants  b1: also run BullMQ and JetStream in the competing/groups variants (Herald and the raw
                   ceiling always run them); adds minutes, as these peers move 5-10k events/s here
  --timeout N      time limit per trial, s (default 180)
  --docs-only      run nothing: regenerate docs/benchmarks.md and its chart (docs/images/benchmark-ratios.svg)
                   from the results files present
  --quick          smoke run (about a minute on a quiet machine): every suite with
                   ${QUICK_FLAGS} and no warm-up (flags given
                   override these); checks that every trial acknowledged and counted all its events
                   without error; writes bench/.scratch/quick/ (results, page, chart), never bench/results/
                   or docs/. A suite whose server is down is skipped, saying so (with CI=true that fails)
  --help           this text

Each suite writes bench/results/<suite>.json; docs/benchmarks.md and its chart are then regenerated from every
results file present, so running one suite keeps the others' sections.
`;

const VARIANTS: readonly Variant[] = ['single', 'competing', 'groups'];

/** Where `--quick` writes its results (gitignored), relative to the repository root. */
export const QUICK_RESULTS_DIR = 'bench/.scratch/quick';

/**
 * Events per throughput trial by default. B1 specifies 1M; on this 2-core machine BullMQ and JetStream move 5–10k
 * events/s, so 100k keeps the default run (warm-up + 5 repetitions of 4 scenarios) to about 7 minutes while
 * the SQLite systems still get windows of a second or more.
 */
export const DEFAULT_COUNT = 100_000;

function suites(value: string | undefined): SuiteId[] {
  const chosen = list(value);
  if (chosen.includes('all')) return [...SUITES];
  const unknown = chosen.filter((s) => !SUITES.includes(s as SuiteId));
  if (chosen.length === 0 || unknown.length > 0)
    throw new Error(`--suite accepts ${SUITES.join(', ')} or all; got "${value ?? ''}"`);
  return SUITES.filter((s) => chosen.includes(s));
}

function positive(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} expects a positive integer, got "${value}"`);
  return n;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Parses the command line (and BENCH_* variables); throws naming the flag that is wrong. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options {
  let chosenSuites: SuiteId[] = [...SUITES];
  let count = env.BENCH_COUNT === undefined ? undefined : positive('BENCH_COUNT', env.BENCH_COUNT);
  let reps = env.BENCH_REPS === undefined ? undefined : positive('BENCH_REPS', env.BENCH_REPS);
  let rate: number | undefined;
  let seconds: number | undefined;
  let only: string[] = [];
  let variants: Variant[] = [...VARIANTS];
  let timeoutS: number | undefined;
  let peerVariants = false;
  let docsOnly = false;
  let quick = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string | undefined => argv[++i];
    switch (flag) {
      case '--suite':
        chosenSuites = suites(value());
        break;
      case '--count':
        count = positive(flag, value());
        break;
      case '--reps':
        reps = positive(flag, value());
        break;
      case '--rate':
        rate = positive(flag, value());
        break;
      case '--seconds':
        seconds = positive(flag, value());
        break;
      case '--only':
        only = list(value());
        break;
      case '--variants': {
        const chosen = list(value());
        const unknown = chosen.filter((v) => !VARIANTS.includes(v as Variant));
        if (unknown.length > 0)
          throw new Error(`--variants accepts ${VARIANTS.join(', ')}; got ${unknown.join(', ')}`);
        variants = chosen as Variant[];
        break;
      }
      case '--peer-variants':
        peerVariants = true;
        break;
      case '--timeout':
        timeoutS = positive(flag, value());
        break;
      case '--docs-only':
        docsOnly = true;
        break;
      case '--quick':
        quick = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new Error(`Unknown option "${flag}"\n\n${USAGE}`);
    }
  }
  if (quick && docsOnly) throw new Error('--quick and --docs-only exclude each other');
  return {
    suites: chosenSuites,
    count: count ?? (quick ? QUICK.count : undefined),
    reps: reps ?? (quick ? QUICK.reps : 5),
    rate: rate ?? (quick ? QUICK.rate : 1000),
    seconds: seconds ?? (quick ? QUICK.seconds : 5),
    only,
    variants,
    peerVariants,
    timeoutS: timeoutS ?? (quick ? QUICK.timeoutS : 180),
    docsOnly,
    quick,
    warmup: !quick,
    help,
  };
}
