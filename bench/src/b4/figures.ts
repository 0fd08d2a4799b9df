import { percentile, sortedCopy } from '../stats.ts';
import type { PhaseDone } from './protocol.ts';

/** Commit→handler latency of a phase, ms. */
export interface LatencyFigures {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** Events timed: committed and handled. */
  readonly n: number;
}

/** What one B4 trial measured, from the producer's phases and the consumer's log. */
export interface B4Figures {
  /** Business transactions of the throughput phase fully handled per second: committed ÷ (last inbox commit − first BEGIN). */
  readonly throughput: number;
  readonly latency: LatencyFigures;
  /** Rate the producer actually offered in the latency phase, transactions/s. */
  readonly offeredRate: number;
  /** Transactions committed in both phases. */
  readonly committed: number;
  /** Committed transactions whose event the consumer handled (once, through the inbox). */
  readonly handled: number;
  /** Committed transactions whose event was never handled. */
  readonly lost: number;
}

const NO_LATENCY: LatencyFigures = {
  p50: Number.NaN,
  p99: Number.NaN,
  p999: Number.NaN,
  max: Number.NaN,
  n: 0,
};

/**
 * The figures of a trial whose throughput phase covered sequence numbers `0 .. t.commitUs.length - 1` and whose
 * latency phase followed it. `entryUs` and `doneUs` are the consumer's handler-entry and inbox-commit times by
 * sequence number (-1: never handled); commit times are the producer's, after COMMIT resolved. Latency is handler
 * entry − commit, per event of the latency phase.
 */
export function b4Figures(
  t: PhaseDone,
  l: PhaseDone,
  consumer: { readonly entryUs: readonly number[]; readonly doneUs: readonly number[] },
): B4Figures {
  const from = t.commitUs.length;
  let committed = 0;
  let handled = 0;
  let lastDone = Number.NEGATIVE_INFINITY;
  const latencies: number[] = [];
  const phases = [
    { phase: t, offset: 0 },
    { phase: l, offset: from },
  ];
  for (const { phase, offset } of phases) {
    phase.commitUs.forEach((commit, i) => {
      if (commit < 0) return;
      committed++;
      const done = consumer.doneUs[offset + i] ?? -1;
      if (done < 0) return;
      handled++;
      if (phase === t) lastDone = Math.max(lastDone, done);
      else latencies.push((consumer.entryUs[offset + i]! - commit) / 1000);
    });
  }
  const sorted = sortedCopy(latencies);
  return {
    throughput: Number.isFinite(lastDone) ? t.committed / ((lastDone - t.firstUs) / 1e6) : Number.NaN,
    latency:
      sorted.length === 0
        ? NO_LATENCY
        : {
            p50: percentile(sorted, 50),
            p99: percentile(sorted, 99),
            p999: percentile(sorted, 99.9),
            max: sorted[sorted.length - 1]!,
            n: sorted.length,
          },
    offeredRate: l.committed / ((l.lastUs - l.firstUs) / 1e6),
    committed,
    handled,
    lost: committed - handled,
  };
}
