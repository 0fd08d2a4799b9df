import { nowUs, sleep } from './clock.ts';
import type { ProducerDriver } from './driver.ts';

export interface LoadOutcome {
  /** Events whose publish call resolved (acknowledged), counted as the calls resolve. */
  readonly acked: number;
  readonly firstUs: number;
  readonly lastUs: number;
  readonly publishUs: number[];
}

/**
 * Publishes `count` events as fast as the system acknowledges them: `window` batch calls in flight. With
 * `timeCalls`, the duration of every call is returned too.
 */
export async function saturate(
  driver: ProducerDriver,
  count: number,
  batch: number,
  window: number,
  timeCalls = false,
): Promise<LoadOutcome> {
  let next = 0;
  let acked = 0;
  const publishUs: number[] = [];
  const firstUs = nowUs();
  const lane = async (): Promise<void> => {
    while (next < count) {
      const from = next;
      const n = Math.min(batch, count - from);
      next += n;
      const start = timeCalls ? nowUs() : 0;
      await driver.publishBatch(from, n);
      acked += n;
      if (timeCalls) publishUs.push(nowUs() - start);
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  return { acked, firstUs, lastUs: nowUs(), publishUs };
}

/** Publishes `count` single events one after the other, each awaiting its acknowledgement (closed loop). */
export async function oneByOne(driver: ProducerDriver, count: number): Promise<LoadOutcome> {
  const publishUs = new Array<number>(count);
  let acked = 0;
  const firstUs = nowUs();
  for (let seq = 0; seq < count; seq++) {
    const sentAt = nowUs();
    await driver.publishOne(seq, sentAt);
    acked++;
    publishUs[seq] = nowUs() - sentAt;
  }
  return { acked, firstUs, lastUs: nowUs(), publishUs };
}

/**
 * Publishes `count` single events at `rate` events/s, open loop: an event is sent when its time comes whether or
 * not earlier publishes were acknowledged, so a slow acknowledgement shows in the latency instead of slowing
 * the offered rate.
 */
export async function fixedRate(driver: ProducerDriver, count: number, rate: number): Promise<LoadOutcome> {
  const publishUs = new Array<number>(count).fill(Number.NaN);
  const pending = new Set<Promise<void>>();
  const firstUs = nowUs();
  let next = 0;
  let acked = 0;
  while (next < count) {
    const due = Math.min(count, Math.floor(((nowUs() - firstUs) * rate) / 1e6) + 1);
    while (next < due) {
      const seq = next++;
      const sentAt = nowUs();
      const p = driver.publishOne(seq, sentAt).then(() => {
        publishUs[seq] = nowUs() - sentAt;
        acked++;
        pending.delete(p);
      });
      pending.add(p);
    }
    const nextDueUs = firstUs + (next * 1e6) / rate;
    await sleep(Math.max(0, (nextDueUs - nowUs()) / 1000));
  }
  await Promise.all(pending);
  return { acked, firstUs, lastUs: nowUs(), publishUs };
}
