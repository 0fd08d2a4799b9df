import type { Variant } from './protocol.ts';

export interface Options {
  /** Events per throughput trial. */
  readonly count: number;
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
  readonly help: boolean;
}

export const USAGE = `Usage: npm run bench -- [options]   (B1: the embedded transport across processes)

  --count N        events per throughput trial (env BENCH_COUNT, default 100000)
  --reps N         measured repetitions after the warm-up (env BENCH_REPS, default 5)
  --rate N         offered rate of the latency trials, events/s (default 1000)
  --seconds N      length of a latency trial, s (default 5)
  --only LIST      comma-separated system ids or prefixes: sqlite-raw, sqlite-raw-d1, bullmq, jetstream, herald...
  --variants LIST  comma-separated: single,competing,groups (default all)
  --peer-variants  also run BullMQ and JetStream in the competing/groups variants (Herald and the raw ceiling
                   always run them); adds minutes, as these peers move 5-10k events/s here
  --timeout N      time limit per trial, s (default 180)
  --help           this text
`;

const VARIANTS: readonly Variant[] = ['single', 'competing', 'groups'];

/**
 * Events per throughput trial by default. B1 specifies 1M; on this 2-core machine BullMQ and JetStream move 5–10k
 * events/s, so 100k keeps the default run (warm-up + 5 repetitions of 4 scenarios) to about 7 minutes while
 * the SQLite systems still get windows of a second or more.
 */
export const DEFAULT_COUNT = 100_000;

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
  let count = positive('BENCH_COUNT', env.BENCH_COUNT ?? String(DEFAULT_COUNT));
  let reps = positive('BENCH_REPS', env.BENCH_REPS ?? '5');
  let rate = 1000;
  let seconds = 5;
  let only: string[] = [];
  let variants: Variant[] = [...VARIANTS];
  let timeoutS = 180;
  let peerVariants = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string | undefined => argv[++i];
    switch (flag) {
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
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new Error(`Unknown option "${flag}"\n\n${USAGE}`);
    }
  }
  return { count, reps, rate, seconds, only, variants, peerVariants, timeoutS, help };
}
