import type { TransportRecord } from '@herald/core';
import { originKey, type Origin } from './envelopes.ts';

/**
 * A record of one retry partition waiting for (or in) its delayed redelivery. `retryOffset` is where its copy
 * sits in the retry topic: the consumer commits the retry partition only below the oldest unsettled copy, so a
 * crash re-reads every parked record.
 */
export interface ParkedEntry {
  readonly origin: Origin;
  readonly originKey: string;
  /** Records of one lane (topic + key) are redelivered one at a time in origin order; unkeyed: own lane. */
  readonly lane: string | undefined;
  readonly record: TransportRecord;
  readonly attempt: number;
  /** Epoch ms; pushed back after a failed settle so a broken broker is not hammered. */
  dueAt: number;
  readonly retryOffset: bigint;
  /** The fetch loop has read the copy back (so its offset is tracked); only then may it be delivered. */
  readBack: boolean;
  inFlight: boolean;
}

/** What the consumer does with a retry-topic record it has just read. */
export type ReadOutcome =
  /** Parked (or already known): keep its offset unfinished until the entry settles. */
  | { readonly kind: 'parked'; readonly entry: ParkedEntry }
  /** An older copy of a record parked later in the log: finish its offset at once. */
  | { readonly kind: 'stale' }
  /** A copy whose record is being delivered right now: held unfinished until that delivery settles. */
  | { readonly kind: 'held' }
  /** A newer copy replaced an idle entry: finish `finish` (the old copy's offset). */
  | { readonly kind: 'replaced'; readonly entry: ParkedEntry; readonly finish: bigint };

/** The lane of a record: its topic and key, or none for unkeyed records. */
export function laneOf(topic: string, key: string | undefined): string | undefined {
  return key === undefined ? undefined : `${topic}\u0000${key}`;
}

function compareOrigin(a: ParkedEntry, b: ParkedEntry): number {
  if (a.origin.partition !== b.origin.partition) return a.origin.partition - b.origin.partition;
  return a.origin.offset < b.origin.offset ? -1 : a.origin.offset > b.origin.offset ? 1 : 0;
}

/**
 * The parked records of one retry partition, in memory. It decides which may be redelivered now: per lane only
 * the head (the lowest origin offset), once due, read back and not already in flight, so a key's records keep
 * their publish order across redeliveries while other keys flow. Copies of one record (a reschedule appends a
 * new copy; a crash can make the log hold several) are recognised by origin, so each record is delivered once
 * per copy that matters.
 */
export class ParkedSet {
  readonly #byOrigin = new Map<string, ParkedEntry>();
  readonly #byOffset = new Map<bigint, ParkedEntry>();
  /** Copies read while their record was in flight: offset → origin key. */
  readonly #orphans = new Map<bigint, string>();
  readonly #lanes = new Map<string, ParkedEntry[]>();
  readonly #unkeyed = new Set<ParkedEntry>();
  #readBack = 0;

  /** Entries in the set. */
  get size(): number {
    return this.#byOrigin.size;
  }

  /** Entries read back from the log (the ones the consumer holds in memory on the log's behalf). */
  get readBackCount(): number {
    return this.#readBack;
  }

  hasOrigin(origin: Origin): boolean {
    return this.#byOrigin.has(originKey(origin));
  }

  /** True while the lane has a parked record: later records of the lane must park behind it. */
  isLaneParked(lane: string | undefined): boolean {
    return lane !== undefined && (this.#lanes.get(lane)?.length ?? 0) > 0;
  }

  /** Every entry, for inspection. */
  entries(): ParkedEntry[] {
    return [...this.#byOrigin.values()];
  }

  #insert(entry: ParkedEntry): void {
    this.#byOrigin.set(entry.originKey, entry);
    this.#byOffset.set(entry.retryOffset, entry);
    if (entry.readBack) this.#readBack++;
    if (entry.lane === undefined) {
      this.#unkeyed.add(entry);
      return;
    }
    let lane = this.#lanes.get(entry.lane);
    if (lane === undefined) this.#lanes.set(entry.lane, (lane = []));
    let index = lane.length;
    while (index > 0 && compareOrigin(lane[index - 1]!, entry) > 0) index--;
    lane.splice(index, 0, entry);
  }

  #remove(entry: ParkedEntry): void {
    if (this.#byOrigin.get(entry.originKey) === entry) this.#byOrigin.delete(entry.originKey);
    if (this.#byOffset.get(entry.retryOffset) === entry) this.#byOffset.delete(entry.retryOffset);
    if (entry.readBack) this.#readBack--;
    if (entry.lane === undefined) {
      this.#unkeyed.delete(entry);
      return;
    }
    const lane = this.#lanes.get(entry.lane);
    if (lane === undefined) return;
    const index = lane.indexOf(entry);
    if (index >= 0) lane.splice(index, 1);
    if (lane.length === 0) this.#lanes.delete(entry.lane);
  }

  #markReadBack(entry: ParkedEntry): void {
    if (!entry.readBack) {
      entry.readBack = true;
      this.#readBack++;
    }
  }

  #takeOrphans(key: string, keep?: bigint): { adopted: boolean; finish: bigint[] } {
    const finish: bigint[] = [];
    let adopted = false;
    for (const [offset, orphanOrigin] of this.#orphans) {
      if (orphanOrigin !== key) continue;
      this.#orphans.delete(offset);
      if (offset === keep) adopted = true;
      else finish.push(offset);
    }
    return { adopted, finish };
  }

  /** A copy this consumer appended to the retry topic at `entry.retryOffset` (produce acknowledged). */
  produced(entry: ParkedEntry): void {
    if (this.#byOffset.has(entry.retryOffset)) return; // the fetch loop read it first: already parked
    this.#insert(entry);
  }

  /** A retry-topic record read at `offset` (in log order). */
  read(entry: ParkedEntry): ReadOutcome {
    const known = this.#byOffset.get(entry.retryOffset);
    if (known !== undefined) {
      this.#markReadBack(known);
      return { kind: 'parked', entry: known };
    }
    const existing = this.#byOrigin.get(entry.originKey);
    if (existing === undefined) {
      const parked = { ...entry, readBack: true, inFlight: false };
      this.#insert(parked);
      return { kind: 'parked', entry: parked };
    }
    if (existing.retryOffset > entry.retryOffset) return { kind: 'stale' };
    if (existing.inFlight || !existing.readBack) {
      this.#orphans.set(entry.retryOffset, entry.originKey);
      return { kind: 'held' };
    }
    this.#remove(existing);
    const parked = { ...entry, readBack: true, inFlight: false };
    this.#insert(parked);
    return { kind: 'replaced', entry: parked, finish: existing.retryOffset };
  }

  /**
   * The entry settled for good (acked or dead-lettered): it leaves the set. Returns the offsets to finish:
   * copies of the same record held meanwhile.
   */
  settle(entry: ParkedEntry): bigint[] {
    this.#remove(entry);
    return this.#takeOrphans(entry.originKey).finish;
  }

  /**
   * The entry was rescheduled: `next` is its new copy (produce acknowledged). Returns the offsets to finish
   * besides the old copy's: other copies held meanwhile.
   */
  reschedule(entry: ParkedEntry, next: ParkedEntry): bigint[] {
    this.#remove(entry);
    const { adopted, finish } = this.#takeOrphans(entry.originKey, next.retryOffset);
    this.#insert({ ...next, readBack: adopted, inFlight: false });
    return finish;
  }

  /** Drops every entry (the partition was revoked); returns nothing, the new owner re-reads the log. */
  clear(): void {
    this.#byOrigin.clear();
    this.#byOffset.clear();
    this.#orphans.clear();
    this.#lanes.clear();
    this.#unkeyed.clear();
    this.#readBack = 0;
  }

  /**
   * The entries to deliver now, marked in flight: per lane the head, if read back, idle and due; every due idle
   * unkeyed entry. `nextDueAt` is when the next head falls due (`Infinity` if none waits).
   */
  takeDue(now: number): { ready: ParkedEntry[]; nextDueAt: number } {
    const ready: ParkedEntry[] = [];
    let nextDueAt = Number.POSITIVE_INFINITY;
    const consider = (entry: ParkedEntry): void => {
      if (!entry.readBack || entry.inFlight) return;
      if (entry.dueAt <= now) {
        entry.inFlight = true;
        ready.push(entry);
      } else if (entry.dueAt < nextDueAt) {
        nextDueAt = entry.dueAt;
      }
    };
    for (const lane of this.#lanes.values()) consider(lane[0]!);
    for (const entry of this.#unkeyed) consider(entry);
    return { ready, nextDueAt };
  }
}
