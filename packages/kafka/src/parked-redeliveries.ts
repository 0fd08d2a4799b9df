import type { Delivery, KeyedExecutor, Lease, TransportRecord } from '@herald/core';
import type { KafkaRecord } from '@platformatic/kafka';
import { decodeKafkaRecord } from './cloudevents-binding.ts';
import { originKey, parseRetryControl, type Origin } from './envelopes.ts';
import type { KafkaDelivery, KafkaSettleActions } from './kafka-delivery.ts';
import type { PartitionState } from './kafka-partition.ts';
import { laneOf, ParkedSet, type ParkedEntry } from './parked-set.ts';
import type { RedeliveryWriter } from './redelivery-writer.ts';

/** What {@link ParkedRedeliveries} works with, from its subscription. */
export interface RedeliveryHost {
  readonly retryTopic: string;
  readonly executor: KeyedExecutor;
  readonly writer: RedeliveryWriter;
  /** The assigned retry partition of that number, if any. */
  retryState(partition: number): PartitionState | undefined;
  /** The record at `offset` of `state` is done (its position may be committed past it). */
  finish(state: PartitionState, offset: bigint): void;
  delivery(
    origin: Origin,
    record: TransportRecord,
    attempt: number,
    lease: Lease,
    actions: KafkaSettleActions,
  ): KafkaDelivery;
  onDelivery(delivery: Delivery): Promise<void>;
  stopping(): boolean;
  report(scope: string, error: unknown): void;
}

/**
 * The records a subscription parked in its group's retry topic, per retry partition it owns: read back into a
 * {@link ParkedSet}, held until due, and then redelivered one per key at a time (later records of a waiting key
 * park behind it), so a key keeps its order while other keys flow. A record that fails again is appended anew
 * with the next attempt; one that settles finishes its copy's offset.
 */
export class ParkedRedeliveries {
  readonly #host: RedeliveryHost;
  readonly #parked = new Map<number, ParkedSet>();
  #timer: NodeJS.Timeout | undefined;
  #kickPending = false;
  #dispatching = false;
  #dispatchAgain = false;

  constructor(host: RedeliveryHost) {
    this.#host = host;
  }

  /** The parked records of retry partition `partition`, while it is assigned. */
  of(partition: number): ParkedSet | undefined {
    return this.#parked.get(partition);
  }

  /** Retry partition `partition` was assigned: its records are read back from now on. */
  open(partition: number): void {
    this.#parked.set(partition, new ParkedSet());
  }

  /** Retry partition `partition` was revoked: the next owner reads its records back. */
  drop(partition: number): void {
    this.#parked.get(partition)?.clear();
    this.#parked.delete(partition);
  }

  /** Takes a record read from the retry partition of `state`, at `offset`. */
  accept(state: PartitionState, offset: bigint, raw: KafkaRecord): void {
    const { retryTopic } = this.#host;
    const { record, control } = decodeKafkaRecord(retryTopic, raw.key, raw.value, raw.headers);
    state.tracker.track(offset);
    const parked = this.#parked.get(state.partition);
    if (parked === undefined) return; // revoked meanwhile: the next owner reads it
    const envelope = parseRetryControl(control);
    // A record something else wrote to the retry topic: deliver it once, as itself.
    const origin: Origin = envelope?.origin ?? { topic: retryTopic, partition: state.partition, offset };
    const entry: ParkedEntry = {
      origin,
      originKey: originKey(origin),
      lane: laneOf(origin.topic, record.key),
      // A copy of the data: a parked record may wait minutes, and a slice would pin the whole fetch response.
      record: { ...record, topic: origin.topic, data: Uint8Array.prototype.slice.call(record.data) },
      attempt: envelope?.attempt ?? 1,
      dueAt: envelope?.dueAt ?? 0,
      retryOffset: offset,
      readBack: true,
      inFlight: false,
    };
    const outcome = parked.read(entry);
    if (outcome.kind === 'stale') this.#host.finish(state, offset);
    else if (outcome.kind === 'replaced') this.#host.finish(state, outcome.finish);
    this.kick();
  }

  /** Redelivers what is due, soon (once per microtask however often it is called). */
  kick(): void {
    if (this.#kickPending || this.#host.stopping()) return;
    this.#kickPending = true;
    queueMicrotask(() => {
      this.#kickPending = false;
      void this.#dispatch().catch((error: unknown) => this.#host.report('redelivery', error));
    });
  }

  /** Stops the wait for the next due record (at shutdown). */
  stop(): void {
    clearTimeout(this.#timer);
  }

  /** Submits every due head of the parked records, then sleeps until the next one falls due. */
  async #dispatch(): Promise<void> {
    if (this.#dispatching) {
      this.#dispatchAgain = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#dispatchAgain = false;
        clearTimeout(this.#timer);
        let nextDueAt = Number.POSITIVE_INFINITY;
        for (const [partition, parked] of this.#parked) {
          const state = this.#host.retryState(partition);
          if (state === undefined) continue;
          const { ready, nextDueAt: due } = parked.takeDue(Date.now());
          nextDueAt = Math.min(nextDueAt, due);
          for (const entry of ready) {
            if (this.#host.stopping() || state.revoked) {
              entry.inFlight = false;
              continue;
            }
            await this.#host.executor.submit(entry.record.key, () => this.#deliver(parked, state, entry));
          }
        }
        if (nextDueAt !== Number.POSITIVE_INFINITY && !this.#host.stopping()) {
          this.#timer = setTimeout(() => this.kick(), Math.max(1, nextDueAt - Date.now()));
        }
      } while (this.#dispatchAgain && !this.#host.stopping());
    } finally {
      this.#dispatching = false;
    }
  }

  async #deliver(parked: ParkedSet, state: PartitionState, entry: ParkedEntry): Promise<void> {
    const host = this.#host;
    try {
      if (host.stopping() || state.revoked) return;
      const settle = (finish: bigint[]): void => {
        for (const offset of finish) host.finish(state, offset);
        host.finish(state, entry.retryOffset);
      };
      const delivery = host.delivery(entry.origin, entry.record, entry.attempt, state.lease, {
        ack: () => {
          settle(parked.settle(entry));
          return Promise.resolve();
        },
        retryLater: async (delayMs) => {
          const next = await host.writer.retry(
            entry.origin,
            entry.record,
            entry.attempt + 1,
            Date.now() + Math.max(0, delayMs),
          );
          settle(parked.reschedule(entry, next));
        },
        deadLetter: async (failure) => {
          await host.writer.deadLetter(entry.origin, entry.record, failure);
          settle(parked.settle(entry));
        },
      });
      await host.onDelivery(delivery.delivery);
      // A failed settle leaves the entry parked: try again in a moment rather than at once.
      if (delivery.failed()) entry.dueAt = Date.now() + 1000;
    } finally {
      entry.inFlight = false;
      this.kick();
    }
  }
}
