import {
  Lease,
  settleOnce,
  sleep,
  type DeadLetterFailure,
  type Delivery,
  type TransportRecord,
} from '@herald/core';
import { decodeMessage } from './cloudevents-binding.ts';
import { DeadLetterHeaders, headerPairs } from './dead-letters.ts';
import { KeyLanes, type LaneItem, type SettleOutcome } from './key-lanes.ts';
import { transportError } from './nats-errors.ts';
import { restoreParks } from './park-restore.ts';
import { Puller, type PulledMessage } from './puller.ts';
import type { WorkerContext } from './worker-context.ts';

type Source = 'main' | 'replay';

/** A received message, from its receipt until it is settled or handed back. */
interface Tracked extends LaneItem {
  readonly msg: PulledMessage;
  readonly record: TransportRecord;
  readonly offset: string;
  readonly attempt: number;
  /** Counted in the subscription's {@link Flow} (queued or running, not held). */
  counted: boolean;
  settled: boolean;
  /** Left unsettled by a handler that returned: no longer kept alive, so the server redelivers it. */
  orphaned: boolean;
}

/** How a worker stops. */
export type StopMode =
  /** Hand-over or close: in-flight work may finish, the rest is handed back, unparked keys are forgotten. */
  | 'release'
  /** The partition is someone else's already: hand back at once, and leave the group state alone. */
  | 'lose';

/** When an ack, nak or dead-letter write fails, the record comes back after this long. */
const SETTLE_FAILURE_RETRY_MS = 1000;

/**
 * Consumes one partition of one topic for one group, while this member owns it: pulls from the group's durable
 * consumer of the partition (and from its replay consumer), hands records to the subscription's
 * {@link KeyedExecutor} (order per key, parallel across keys), and settles them on the server: `ack`,
 * `nak(delay)` for `retryLater` (parking the key in {@link KeyLanes}), or a write to the dead-letter stream then
 * `ack`. Only the owner pulls, so no other member can run a record of the same key meanwhile.
 */
export class PartitionWorker {
  readonly topic: string;
  readonly partition: number;
  readonly #ctx: WorkerContext;
  readonly #stop = new AbortController();
  /**
   * This ownership of the partition, as its deliveries' `signal` sees it: lost when the worker hands back records
   * still running (the partition was lost, or a hand-over or close timed out). Running long never loses it: the
   * subscription extends every held record's ack wait (`keepAlive`).
   */
  readonly #lease = new Lease();
  readonly #tracked = new Set<Tracked>();
  readonly #lanes = new KeyLanes<Tracked>();
  /**
   * The attempt the next delivery of each record under delayed redelivery carries (1 + its `retryLater`s).
   * JetStream's own delivery count also counts hand-backs at shutdown and hand-over, which are not attempts.
   */
  readonly #attempts = new Map<string, { attempt: number; dueAt: number }>();
  #running = 0;
  #idleWaiters: (() => void)[] = [];
  #abandoned = false;
  readonly #run: Promise<void>;
  #pullers: Puller[] = [];
  #stopping: Promise<boolean> | undefined;
  /** Until then, records of a member presumed dead may still be pending (see `#start`). */
  #dirtyUntil = 0;

  constructor(ctx: WorkerContext, topic: string, partition: number, dirty: boolean) {
    this.#ctx = ctx;
    this.topic = topic;
    this.partition = partition;
    this.#run = this.#start(dirty);
  }

  get #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  get #streamName(): string {
    return this.#ctx.names.topicStream(this.topic);
  }

  get #consumerName(): string {
    return this.#ctx.names.partitionConsumer(this.#ctx.group, this.partition);
  }

  async #pause(ms: number): Promise<void> {
    await sleep(ms, this.#stop.signal).catch(() => undefined);
  }

  async #start(dirty: boolean): Promise<void> {
    const { nc, js, jsm, names, group, options, flow } = this.#ctx;
    // Deliveries of a member presumed dead are pending until their ack wait ends; the server redelivers them
    // before new records, so pulling after that keeps each key's order.
    if (dirty) {
      this.#dirtyUntil = Date.now() + options.ackWaitMs + 250;
      await this.#pause(options.ackWaitMs + 250);
    }
    await this.#untilAttached(() =>
      restoreParks({
        ...this.#ctx,
        topic: this.topic,
        partition: this.partition,
        stream: this.#streamName,
        consumer: this.#consumerName,
        lanes: this.#lanes,
        attempts: this.#attempts,
      }),
    );
    if (this.#stopped) return;
    const pull = (source: Source, stream: string, consumer: string): Puller =>
      new Puller({
        nc,
        jsm,
        apiPrefix: js.apiPrefix,
        stream,
        consumer,
        expiresMs: options.fetchExpiresMs,
        batch: options.fetchBatch,
        flow,
        signal: this.#stop.signal,
        onMessage: (msg) => this.#receive(msg, source),
        onError: (error) =>
          this.#ctx.report(transportError(error, `pulling ${this.topic}/${this.partition} (${source})`)),
      });
    const pullers = [
      pull('main', this.#streamName, this.#consumerName),
      pull('replay', names.replayStream, names.replayConsumer(group, this.topic, this.partition)),
    ];
    await this.#untilAttached(() => Promise.all(pullers.map((puller) => puller.start())));
    // Also when stopped while attaching: a puller that did start must be stopped too.
    this.#pullers = pullers;
  }

  /** Runs `attach` until it succeeds or the worker stops, backing off up to 5 s; reports the first failure. */
  async #untilAttached(attach: () => Promise<unknown>): Promise<void> {
    for (let failures = 0; !this.#stopped; failures++) {
      try {
        await attach();
        return;
      } catch (error) {
        if (failures === 0)
          this.#ctx.report(transportError(error, `attaching to ${this.topic}/${this.partition}`));
        await this.#pause(Math.min(5000, 250 * 2 ** Math.min(failures, 5)));
      }
    }
  }

  #laneKey(key: string | undefined): string | undefined {
    return key === undefined ? undefined : `${this.topic}\u0000${key}`;
  }

  #receive(msg: PulledMessage, source: Source): void {
    const pairs = headerPairs(msg.headers);
    const { key, attributes, data } = decodeMessage(pairs, msg.data);
    let offset = String(msg.seq);
    if (source === 'replay') {
      const original = pairs.find(([name]) => name.toLowerCase() === DeadLetterHeaders.offset)?.[1];
      if (original !== undefined && /^\d+$/.test(original)) offset = original;
    }
    const id = `${source}:${msg.seq}`;
    const tracked: Tracked = {
      id,
      order: source === 'main' ? msg.seq : Number.MAX_SAFE_INTEGER,
      key,
      msg,
      record: { topic: this.topic, key, attributes, data },
      offset,
      // A record re-read after a hand-back or a lost consumer starts again at 1, as on Kafka.
      attempt: this.#attempts.get(id)?.attempt ?? 1,
      counted: true,
      settled: false,
      orphaned: false,
    };
    this.#ctx.flow.take();
    this.#tracked.add(tracked);
    // Received while stopping: handed back with the rest at the end of `stop`.
    if (this.#stopped) return;
    void this.#ctx.executor.submit(this.#laneKey(key), () => this.#task(tracked));
  }

  async #task(tracked: Tracked): Promise<void> {
    if (this.#stopped || tracked.settled) return;
    if (!this.#lanes.admit(tracked)) {
      this.#uncount(tracked);
      return;
    }
    await this.#deliver(tracked);
  }

  async #deliver(tracked: Tracked): Promise<void> {
    this.#running++;
    try {
      await this.#ctx.onDelivery(this.#delivery(tracked));
    } catch (error) {
      this.#ctx.report(error);
    } finally {
      this.#running--;
      if (!tracked.settled && !this.#abandoned) {
        tracked.orphaned = true;
        this.#uncount(tracked);
      }
      if (this.#running === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const wake of waiters) wake();
      }
    }
  }

  #delivery(tracked: Tracked): Delivery {
    const { msg, record } = tracked;
    const where = `${this.topic}/${this.partition}/${tracked.offset}`;
    const fields = { record, group: this.#ctx.group, partition: this.partition, offset: tracked.offset };
    return settleOnce(
      { ...fields, attempt: tracked.attempt, signal: this.#lease.signal },
      {
        ack: async () => {
          msg.ack();
          await this.#finish(tracked);
        },
        retryLater: async (delayMs: number) => {
          const delay = Math.max(0, Math.round(delayMs));
          const dueAt = Date.now() + delay;
          const attempt = tracked.attempt + 1;
          if (tracked.key !== undefined) {
            await this.#ctx.state.putPark(this.#ctx.group, this.topic, this.partition, {
              key: tracked.key,
              id: tracked.id,
              dueAt,
              attempt,
            });
          }
          this.#attempts.set(tracked.id, { attempt, dueAt });
          this.#lanes.park(tracked, dueAt);
          this.#untrack(tracked);
          if (delay > 0) msg.nak(delay);
          else msg.nak();
        },
        deadLetter: async (failure: DeadLetterFailure) => {
          await this.#ctx.deadLetters.write(this.#ctx.group, fields, failure);
          msg.ack();
          await this.#finish(tracked);
        },
      },
      {
        subject: `Record ${where}`,
        onClaim: () => (tracked.settled = true),
        // Abandoned (handed back at shutdown or lost): the server redelivers it; settling now could reorder it.
        skip: () => this.#abandoned,
        onFailure: (error, action) => {
          // Not settled as asked: hand it back, keeping its key's later records behind it.
          const dueAt = Date.now() + SETTLE_FAILURE_RETRY_MS;
          this.#lanes.park(tracked, dueAt);
          this.#attempts.set(tracked.id, { attempt: tracked.attempt, dueAt });
          this.#untrack(tracked);
          msg.nak(SETTLE_FAILURE_RETRY_MS);
          return transportError(error, `${action} of ${where}`);
        },
      },
    );
  }

  #uncount(tracked: Tracked): void {
    if (!tracked.counted) return;
    tracked.counted = false;
    this.#ctx.flow.give();
  }

  #untrack(tracked: Tracked): void {
    this.#tracked.delete(tracked);
    this.#uncount(tracked);
  }

  /** The record is done for this group (acked or dead-lettered). */
  async #finish(tracked: Tracked): Promise<void> {
    this.#untrack(tracked);
    this.#attempts.delete(tracked.id);
    await this.#afterSettle(tracked.key, this.#lanes.settle(tracked));
  }

  async #afterSettle(key: string | undefined, outcome: SettleOutcome): Promise<void> {
    if (key === undefined) return;
    if (outcome === 'cleared') {
      await this.#ctx.state.deletePark(this.#ctx.group, this.topic, this.partition, key);
    } else if (outcome === 'drain') {
      void this.#ctx.executor.submit(this.#laneKey(key), () => this.#drain(key));
    }
  }

  /** Delivers a key's held records in order, until one is parked again or none is left. */
  async #drain(key: string): Promise<void> {
    while (!this.#stopped) {
      const step = this.#lanes.takeHeld(key);
      if ('item' in step) {
        if (!step.item.settled) await this.#deliver(step.item);
        continue;
      }
      if (step.stop === 'cleared') {
        await this.#ctx.state
          .deletePark(this.#ctx.group, this.topic, this.partition, key)
          .catch((error: unknown) => this.#ctx.report(error));
      }
      return;
    }
  }

  /** The connection came back after a loss: pull again at once rather than after the heartbeat watchdog. */
  reconnected(): void {
    for (const puller of this.#pullers) puller.reconnected();
  }

  /**
   * Extends the ack wait of every record this worker holds (queued, running or held behind a parked key), and
   * gives up on parked records long overdue. Called every third of the ack wait.
   */
  keepAlive(): void {
    if (this.#stopped) return;
    const ids = new Set<string>();
    for (const tracked of this.#tracked) {
      ids.add(tracked.id);
      if (!tracked.orphaned && !tracked.settled) tracked.msg.working();
    }
    const grace = this.#ctx.options.ackWaitMs + 5000;
    const now = Date.now();
    for (const [id, { dueAt }] of this.#attempts) {
      if (!ids.has(id) && now - dueAt > 10 * grace) this.#attempts.delete(id);
    }
    for (const key of this.#lanes.expire(now, grace, ids)) {
      void this.#ctx.executor.submit(this.#laneKey(key), () => this.#drain(key));
    }
  }

  /**
   * Stops pulling (draining what is in transit), waits up to `timeoutMs` for running handlers, then hands every
   * unsettled record back to the server (`nak`, in publish order, so the next owner gets them first).
   */
  stop(mode: StopMode, timeoutMs: number): Promise<boolean> {
    this.#stopping ??= this.#stopWorker(mode, timeoutMs);
    return this.#stopping;
  }

  /** Resolves to `true` when no record of the partition is left in transit (see {@link Puller.stop}). */
  async #stopWorker(mode: StopMode, timeoutMs: number): Promise<boolean> {
    this.#stop.abort();
    await this.#run;
    // Everything the server sent arrives before this resolves (and is handed back below if not started).
    const [drained = true] = await Promise.all(this.#pullers.map((puller) => puller.stop()));
    // Released before a dead member's deliveries came due: the next owner must wait for them in turn.
    const clean = drained && Date.now() >= this.#dirtyUntil;
    if (this.#running > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    }
    this.#abandoned = true;
    this.#lease.lose(
      `${this.topic}/${this.partition} (${mode === 'lose' ? 'another member owns it' : 'handed back'})`,
    );
    const unsettled = [...this.#tracked].filter((t) => !t.settled).sort((a, b) => a.order - b.order);
    for (const tracked of unsettled) {
      tracked.msg.nak();
      this.#untrack(tracked);
    }
    if (mode === 'release') {
      for (const key of this.#lanes.unparkedKeys()) {
        await this.#ctx.state
          .deletePark(this.#ctx.group, this.topic, this.partition, key)
          .catch((error: unknown) => this.#ctx.report(error));
      }
    }
    return clean;
  }
}
