import { nowUs } from './clock.ts';
import type { Stamp } from './message.ts';
import type { ConsumerResult, ProcessUsage } from './protocol.ts';

/** Counts what a consumer received: distinct events, duplicates, first/last time and (optionally) latency. */
export class Sink {
  #seen: Uint8Array;
  #e2e: number[] = [];
  #recordLatency: boolean;
  received = 0;
  distinct = 0;
  duplicates = 0;
  firstUs = 0;
  lastUs = 0;

  constructor(count: number, recordLatency: boolean) {
    this.#seen = new Uint8Array(count);
    this.#recordLatency = recordLatency;
  }

  accept(stamp: Stamp): void {
    const now = nowUs();
    if (this.received === 0) this.firstUs = now;
    this.received++;
    this.lastUs = now;
    if (this.#seen[stamp.seq] === 1) {
      this.duplicates++;
      return;
    }
    this.#seen[stamp.seq] = 1;
    this.distinct++;
    if (this.#recordLatency) this.#e2e.push(now - stamp.sentAt);
  }

  result(usage: ProcessUsage): ConsumerResult {
    return {
      ...usage,
      received: this.received,
      distinct: this.distinct,
      duplicates: this.duplicates,
      firstUs: this.firstUs,
      lastUs: this.lastUs,
      e2eUs: this.#e2e,
    };
  }
}
