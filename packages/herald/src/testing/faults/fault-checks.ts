import { AssertionError } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import { configError } from '../../errors.ts';
import { memory } from '../../memory/memory-transport.ts';
import type { Transport } from '../../transport.ts';
import { emptyFaultCounts, type FaultKind, type FaultOptions } from './fault-options.ts';
import { withFaults, type FaultyTransport } from './fault-transport.ts';

/**
 * A system under test: builds its consumers (and producers) on `transport`, drives them to the end of a
 * workload, closes them, and returns the outcome an observer can check (balances, stock, statuses...). The
 * outcome must not contain what legitimately differs between runs (generated ids, timestamps): map them to
 * stable names first.
 */
export type FaultScenario<Outcome> = (transport: FaultyTransport) => Promise<Outcome>;

/** Options of {@link checkUnderFaults}, {@link checkIdempotent} and {@link checkOrderSafe}. */
export interface FaultCheckOptions {
  /** The first run's seed; run `i` uses `seed + i`. Default 1. */
  readonly seed?: number;
  /** Runs with faults, after one without. Default 5. */
  readonly runs?: number;
  /** A fresh transport per run. Default a fresh `memory()` transport. */
  readonly transport?: () => Transport;
  /** Overrides or adds to the check's fault probabilities. */
  readonly faults?: Omit<FaultOptions, 'seed'>;
}

/** What a passing check did. */
export interface FaultCheckReport {
  readonly runs: number;
  readonly seeds: readonly number[];
  /** Faults injected over all runs, per kind. */
  readonly injected: Readonly<Record<FaultKind, number>>;
}

/**
 * The faults that break a consumer that is not idempotent: the same event handled twice, in a row (a crash
 * between commit and ack, a failed ack) and late, after newer events of its key (an at-least-once redelivery).
 */
export const IDEMPOTENCY_FAULTS: Omit<FaultOptions, 'seed'> = {
  duplicate: 0.25,
  crashBeforeAck: 0.25,
  ackError: 0.1,
};

/** The faults that break a consumer that depends on an order the transport does not promise (across keys). */
export const ORDERING_FAULTS: Omit<FaultOptions, 'seed'> = { reorder: 0.5, delay: 0.3 };

/**
 * Runs `scenario` once without faults and `runs` times with `faults` (seeds `seed`, `seed + 1`...), each on a
 * fresh transport, and rejects with an `AssertionError` (actual and expected outcomes, the seed, the faults
 * injected) when an outcome differs from the fault-free one or the kit saw a delivery go wrong. Same seed, same
 * faults: the message says how to reproduce a failure.
 */
export async function checkUnderFaults<Outcome>(
  scenario: FaultScenario<Outcome>,
  faults: Omit<FaultOptions, 'seed'>,
  options: FaultCheckOptions = {},
): Promise<FaultCheckReport> {
  const runs = options.runs ?? 5;
  if (!(Number.isInteger(runs) && runs >= 1)) throw configError('runs', 'an integer >= 1', runs);
  const firstSeed = options.seed ?? 1;
  const fresh = options.transport ?? (() => memory());
  const expected = await scenario(withFaults(fresh(), { seed: firstSeed }));
  const seeds: number[] = [];
  const injected = emptyFaultCounts();
  for (let run = 0; run < runs; run++) {
    const seed = firstSeed + run;
    seeds.push(seed);
    const transport = withFaults(fresh(), { ...faults, ...options.faults, seed });
    const actual = await scenario(transport);
    const counts = transport.counts();
    for (const kind of Object.keys(counts) as FaultKind[]) injected[kind] += counts[kind];
    const summary = Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${n} ${kind}`)
      .join(', ');
    if (transport.problems.length > 0) {
      throw new AssertionError({
        message:
          `Under faults (seed ${seed}; injected ${summary || 'nothing'}) a delivery went wrong:\n  ` +
          transport.problems.slice(0, 5).join('\n  '),
      });
    }
    if (!isDeepStrictEqual(actual, expected)) {
      throw new AssertionError({
        message:
          `The outcome under faults differs from the fault-free run (seed ${seed}; injected ${summary || 'nothing'}). ` +
          `Reproduce with { seed: ${seed}, runs: 1 }.`,
        actual,
        expected,
        operator: 'deepStrictEqual',
      });
    }
  }
  return { runs, seeds, injected };
}

/**
 * Checks that `scenario`'s outcome survives duplicate deliveries ({@link IDEMPOTENCY_FAULTS}): an idempotent
 * consumer gives the fault-free outcome whatever the broker redelivers. Catches effects applied twice.
 */
export function checkIdempotent<Outcome>(
  scenario: FaultScenario<Outcome>,
  options: FaultCheckOptions = {},
): Promise<FaultCheckReport> {
  return checkUnderFaults(scenario, IDEMPOTENCY_FAULTS, options);
}

/**
 * Checks that `scenario`'s outcome does not depend on the order of events across keys ({@link ORDERING_FAULTS}):
 * the transport keeps order within a key only, and an order-safe consumer gives the fault-free outcome however
 * keys interleave. Catches consumers that rely on a global order.
 */
export function checkOrderSafe<Outcome>(
  scenario: FaultScenario<Outcome>,
  options: FaultCheckOptions = {},
): Promise<FaultCheckReport> {
  return checkUnderFaults(scenario, ORDERING_FAULTS, options);
}
