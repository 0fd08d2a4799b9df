import { Lease } from '../consumer-kit/lease.ts';
import type { CommittedPartition } from '../consumer-kit/partition-committer.ts';
import { OffsetTracker } from '../offset-tracker.ts';
import type { OwnedPartition, ParkedRecord } from './log-store.ts';

/** The key a consumer files a partition under: topic and partition number. */
export const partitionKey = (tp: { topic: string; partition: number }): string =>
  `${tp.topic}\u0000${tp.partition}`;

/**
 * What a {@link LogConsumer} knows of one partition it owns, under one ownership generation: where it reads, what
 * is in flight (for commits), and the records of the partition parked for its group, which hold back later
 * records of their keys.
 */
export class LogPartition implements CommittedPartition {
  readonly tp: OwnedPartition;
  /** Next offset to read from the log. */
  cursor: bigint;
  readonly tracker = new OffsetTracker();
  lastCommitted: bigint | undefined;
  revoked = false;
  /**
   * This ownership of the partition, as its deliveries' `signal` sees it: lost when the partition goes to another
   * member (or is seeked) and its records are read again from the committed position. The member's own lease in
   * the store is renewed by a timer, so a long handler never loses it by running long.
   */
  readonly lease = new Lease();
  /** Parked records being redelivered now, by park id. */
  readonly parkedInFlight = new Set<bigint>();
  #parked: readonly ParkedRecord[] = [];
  #parkedKeys = new Set<string>();

  constructor(tp: OwnedPartition, cursor: bigint, lastCommitted: bigint | undefined) {
    this.tp = tp;
    this.cursor = cursor;
    this.lastCommitted = lastCommitted;
  }

  /** This member no longer owns the partition under this generation: nothing more is read or committed. */
  revoke(why: string): void {
    this.revoked = true;
    this.lease.lose(`${this.tp.topic}/${this.tp.partition} (${why})`);
  }

  /** Records of this partition parked for this group, in park order. */
  get parked(): readonly ParkedRecord[] {
    return this.#parked;
  }

  /** Whether a record with `key` must park behind an earlier parked record of its key. */
  isKeyParked(key: string | undefined): boolean {
    return key !== undefined && this.#parkedKeys.has(key);
  }

  /** Replaces the parked records with the store's current list (in park order). */
  setParked(parked: readonly ParkedRecord[]): void {
    this.#parked = parked;
    this.#parkedKeys = new Set(parked.flatMap((p) => (p.record.key === undefined ? [] : [p.record.key])));
  }

  /** The parked record `parkId` was settled for good (acked or dead-lettered). */
  unparked(parkId: bigint): void {
    this.setParked(this.#parked.filter((p) => p.parkId !== parkId));
  }

  /** The parked record `parkId` failed again and waits until `dueAt` for `attempt`. */
  rescheduled(parkId: bigint, attempt: number, dueAt: number): void {
    this.setParked(this.#parked.map((p) => (p.parkId === parkId ? { ...p, attempt, dueAt } : p)));
  }

  /**
   * The parked records to redeliver at `now`: the first of each key (a key's later ones wait behind it), if due
   * and not already in flight. `nextDue` is when the earliest of the first ones not yet due falls due.
   */
  due(now: number): { due: ParkedRecord[]; nextDue: number } {
    const due: ParkedRecord[] = [];
    let nextDue = Number.POSITIVE_INFINITY;
    const seenKeys = new Set<string>();
    for (const parked of this.#parked) {
      const key = parked.record.key;
      if (key !== undefined) {
        if (seenKeys.has(key)) continue;
        seenKeys.add(key);
      }
      if (this.parkedInFlight.has(parked.parkId)) continue;
      if (parked.dueAt > now) nextDue = Math.min(nextDue, parked.dueAt);
      else due.push(parked);
    }
    return { due, nextDue };
  }
}
