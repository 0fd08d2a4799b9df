/**
 * Microseconds on the system-wide monotonic clock. `process.hrtime` reads CLOCK_MONOTONIC, which every process on
 * the machine shares, so a timestamp taken in the producer can be subtracted from one taken in a consumer.
 */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
