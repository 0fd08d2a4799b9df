/** What {@link KeyLanes} needs to know of a delivery. */
export interface LaneItem {
  /** Identifies the record across redeliveries (`main:<seq>`, `replay:<seq>`). */
  readonly id: string;
  /** Publish order within the partition (the stream sequence); replays sort after every record. */
  readonly order: number;
  readonly key: string | undefined;
}

interface Lane<T extends LaneItem> {
  /** The record under delayed redelivery that the key waits for, if any. */
  parkedId: string | undefined;
  /** When that record is due, ms since the epoch (to notice a record that never comes back). */
  parkedDueAt: number;
  /** Later records of the key, in publish order, waiting for the parked record to be settled. */
  readonly held: T[];
}

/** What the caller must do after a record was settled. */
export type SettleOutcome =
  /** Nothing changed for the key. */
  | 'none'
  /** The key is free again: forget its persisted park. */
  | 'cleared'
  /** The parked record is done: deliver the held records, in order (see {@link KeyLanes.takeHeld}). */
  | 'drain';

/** The next step of a drain. */
export type DrainStep<T> =
  | { readonly item: T }
  /** A record of the key went back under delayed redelivery: the rest stay held. */
  | { readonly stop: 'parked' }
  /** Every held record was delivered: forget the persisted park. */
  | { readonly stop: 'cleared' }
  /** The key has no lane (nothing to do). */
  | { readonly stop: 'none' };

/**
 * Order per key across delayed redelivery, for one partition. JetStream redelivers a record `nak`ed with a delay
 * without holding back the records after it, so the transport holds them itself: when a record of key K is handed
 * back with `retryLater`, K gets a lane that *parks* it; later records of K are *held* (kept unacknowledged, in
 * publish order) until the parked record comes back and is settled, then they are delivered in order. Other keys
 * never wait. Pure bookkeeping, so the ordering rules are unit-tested without a server.
 */
export class KeyLanes<T extends LaneItem> {
  readonly #lanes = new Map<string, Lane<T>>();

  /** Keys with a lane (parked or draining). */
  get size(): number {
    return this.#lanes.size;
  }

  /**
   * Called when a record is about to be delivered: `true` to deliver it now, `false` when it was held behind
   * an earlier record of its key (the caller keeps it unacknowledged).
   */
  admit(item: T): boolean {
    if (item.key === undefined) return true;
    const lane = this.#lanes.get(item.key);
    if (lane === undefined || lane.parkedId === item.id) return true;
    const at = lane.held.findIndex((held) => held.order > item.order);
    if (at === -1) lane.held.push(item);
    else lane.held.splice(at, 0, item);
    return false;
  }

  /** The record was handed back for redelivery at `dueAt`: its key waits for it. */
  park(item: T, dueAt: number): void {
    if (item.key === undefined) return;
    let lane = this.#lanes.get(item.key);
    if (lane === undefined) {
      lane = { parkedId: undefined, parkedDueAt: 0, held: [] };
      this.#lanes.set(item.key, lane);
    }
    lane.parkedId = item.id;
    lane.parkedDueAt = dueAt;
  }

  /** Restores a park persisted by an earlier owner of the partition. */
  restore(key: string, parkedId: string, dueAt: number): void {
    if (this.#lanes.has(key)) return;
    this.#lanes.set(key, { parkedId, parkedDueAt: dueAt, held: [] });
  }

  /** The record was settled for good (acked or dead-lettered). */
  settle(item: T): SettleOutcome {
    if (item.key === undefined) return 'none';
    const lane = this.#lanes.get(item.key);
    if (lane === undefined || lane.parkedId !== item.id) return 'none';
    lane.parkedId = undefined;
    if (lane.held.length > 0) return 'drain';
    this.#lanes.delete(item.key);
    return 'cleared';
  }

  /** The next held record of `key` to deliver, or why there is none. */
  takeHeld(key: string): DrainStep<T> {
    const lane = this.#lanes.get(key);
    if (lane === undefined) return { stop: 'none' };
    if (lane.parkedId !== undefined) return { stop: 'parked' };
    const item = lane.held.shift();
    if (item !== undefined) return { item };
    this.#lanes.delete(key);
    return { stop: 'cleared' };
  }

  /** Every held record (to hand back when the partition is released). */
  held(): T[] {
    return [...this.#lanes.values()].flatMap((lane) => lane.held);
  }

  /** Keys whose lane waits for no parked record (their persisted park is stale once the records are handed back). */
  unparkedKeys(): string[] {
    return [...this.#lanes].flatMap(([key, lane]) => (lane.parkedId === undefined ? [key] : []));
  }

  /**
   * Gives up waiting for parked records overdue by more than `graceMs` (a park persisted by an owner that died
   * between parking and the server taking the `nak`, say): their keys are returned, to be drained.
   */
  expire(now: number, graceMs: number, inFlight: ReadonlySet<string>): string[] {
    const keys: string[] = [];
    for (const [key, lane] of this.#lanes) {
      if (lane.parkedId === undefined || inFlight.has(lane.parkedId)) continue;
      if (now - lane.parkedDueAt <= graceMs) continue;
      lane.parkedId = undefined;
      keys.push(key);
    }
    return keys;
  }

  /** Forgets a key's park (its parked record is known to be settled). Returns the outcome like {@link settle}. */
  forget(key: string): SettleOutcome {
    const lane = this.#lanes.get(key);
    if (lane === undefined) return 'none';
    lane.parkedId = undefined;
    if (lane.held.length > 0) return 'drain';
    this.#lanes.delete(key);
    return 'cleared';
  }
}
