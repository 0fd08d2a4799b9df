import { createHash } from 'node:crypto';

/**
 * Deterministic dice: `roll(...)` maps a seed and a description of a decision (fault kind, event id, group,
 * how many times the event was seen) to a number in [0, 1). The same inputs always give the same number, so a
 * run's faults depend on the seed and the events, not on the order the runtime schedules them in.
 */
export function roll(seed: number, ...decision: readonly (string | number)[]): number {
  const digest = createHash('sha256')
    .update(`${seed}\u0000${decision.join('\u0000')}`)
    .digest();
  return digest.readUInt32BE(0) / 0x1_0000_0000;
}
