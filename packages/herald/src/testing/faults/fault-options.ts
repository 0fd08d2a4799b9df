import { configError } from '../../errors.ts';

/** The faults {@link withFaults} can inject, as they appear in its log. */
export type FaultKind =
  'duplicate' | 'crash-before-ack' | 'ack-error' | 'reorder' | 'delay' | 'publish-error' | 'publish-lost-ack';

/** A fresh count of zero for every {@link FaultKind}: each call returns a new object the caller may mutate. */
export function emptyFaultCounts(): Record<FaultKind, number> {
  return {
    duplicate: 0,
    'crash-before-ack': 0,
    'ack-error': 0,
    reorder: 0,
    delay: 0,
    'publish-error': 0,
    'publish-lost-ack': 0,
  };
}

/**
 * How often each fault is injected: a probability in [0, 1] per delivery (or per publish call). Every decision
 * is drawn from `seed` and the event's id, so the same seed injects the same faults into the same events, in
 * whatever order the runtime happens to schedule them.
 */
export interface FaultOptions {
  /** The seed every decision derives from. Report it with a failure: it reproduces the run. Default 1. */
  readonly seed?: number;
  /** The record is delivered twice in a row (the second a separate delivery, attempt 1), as after a broker redelivery. */
  readonly duplicate?: number;
  /**
   * The handler ran and committed, then the process "crashed" before the ack reached the broker: the ack is
   * dropped silently and the record is delivered again (attempt 1), as after a consumer restart.
   */
  readonly crashBeforeAck?: number;
  /** The ack fails with a transient `HERALD_TRANSPORT` error and the broker redelivers the record. */
  readonly ackError?: number;
  /**
   * The delivery is held back until a delivery of another key starts after it (or `maxHoldMs` passes), so keys
   * overtake each other. Never within a key: a held delivery holds its key's lane, as the transport keeps it.
   */
  readonly reorder?: number;
  /** The delivery waits a random time up to `maxDelayMs` before the handler sees it. */
  readonly delay?: number;
  /** A publish call fails with a transient `HERALD_TRANSPORT` error before any record reaches the broker. */
  readonly publishError?: number;
  /**
   * A publish call reaches the broker, then fails with a transient error as if its acknowledgement were lost: a
   * caller that retries publishes the same events twice (a producer-side duplicate).
   */
  readonly publishLostAck?: number;
  /** Upper bound of an injected delay. Default 20 ms. */
  readonly maxDelayMs?: number;
  /** Upper bound of a reorder hold. Default 50 ms. */
  readonly maxHoldMs?: number;
  /** Faults injected into one event at most, per group (so a run always ends). Default 3. */
  readonly maxFaultsPerEvent?: number;
}

/** {@link FaultOptions} with every default applied. */
export type ResolvedFaultOptions = Required<FaultOptions>;

const PROBABILITIES = [
  'duplicate',
  'crashBeforeAck',
  'ackError',
  'reorder',
  'delay',
  'publishError',
  'publishLostAck',
] as const;

/** Applies defaults and checks every option; a bad one throws `HERALD_CONFIG` naming it. */
export function resolveFaultOptions(options: FaultOptions): ResolvedFaultOptions {
  for (const name of PROBABILITIES) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= 1)) {
      throw configError(`faults.${name}`, 'a probability between 0 and 1', value);
    }
  }
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw configError('faults.seed', 'an integer', seed);
  const bound = (name: 'maxDelayMs' | 'maxHoldMs' | 'maxFaultsPerEvent', fallback: number): number => {
    const value = options[name] ?? fallback;
    if (!(Number.isInteger(value) && value >= 0))
      throw configError(`faults.${name}`, 'an integer >= 0', value);
    return value;
  };
  return {
    seed,
    duplicate: options.duplicate ?? 0,
    crashBeforeAck: options.crashBeforeAck ?? 0,
    ackError: options.ackError ?? 0,
    reorder: options.reorder ?? 0,
    delay: options.delay ?? 0,
    publishError: options.publishError ?? 0,
    publishLostAck: options.publishLostAck ?? 0,
    maxDelayMs: bound('maxDelayMs', 20),
    maxHoldMs: bound('maxHoldMs', 50),
    maxFaultsPerEvent: bound('maxFaultsPerEvent', 3),
  };
}
