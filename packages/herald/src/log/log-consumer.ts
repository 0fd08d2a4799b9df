import { randomUUID } from 'node:crypto';
import { sleep } from '../backoff.ts';
import { ErrorCodes, HeraldError, type ErrorInfo } from '../errors.ts';
import { KeyedExecutor } from '../keyed-executor.ts';
import { OffsetTracker } from '../offset-tracker.ts';
import type {
  CloseOptions,
  ConsumerLag,
  DeadLetterFailure,
  Delivery,
  SubscribeOptions,
} from '../transport.ts';
import type { LogStore, MemberInfo, OwnedPartition, ParkedRecord, StoredRecord } from './log-store.ts';

/** Tuning of a {@link LogConsumer}, from `logTransport` options. */
export interface LogConsumerTuning {
  readonly pollIntervalMs: number;
  readonly fetchBatch: number;
  readonly commitIntervalMs: number;
}

/** What the consumer knows of one partition it owns, under one ownership generation. */
interface PartitionState {
  readonly tp: OwnedPartition;
  /** Next offset to read from the log. */
  cursor: bigint;
  readonly tracker: OffsetTracker;
  /** Records of this partition parked for this group, in park order. */
  parked: ParkedRecord[];
  /** Keys with parked records: later records with these keys park behind them. */
  parkedKeys: Set<string>;
  readonly parkedInFlight: Set<bigint>;
  revoked: boolean;
  lastCommitted: bigint | undefined;
}

const keyOf = (tp: { topic: string; partition: number }): string => `${tp.topic}\u0000${tp.partition}`;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/**
 * The fetch loop gives the event loop a turn after submitting for this long. With a synchronous store (SQLite,
 * memory) and quick handlers, a whole backlog would otherwise drain in microtasks: no timer (heartbeat, commit)
 * or I/O (a health check) would run until it ends. Measured on a 20,000-event drain: the turn costs nothing
 * visible in throughput and keeps the event loop's delay in the tens of milliseconds.
 */
const YIELD_AFTER_MS = 10;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * One member of a consumer group on a {@link LogStore}: heartbeats to keep its partitions, reads them in
 * offset order, hands records to a {@link KeyedExecutor} (order per key, parallel across keys), and commits
 * each partition's position below its oldest unfinished record. Failed records are parked per key for delayed
 * redelivery, so other keys keep flowing.
 *
 * While it drains a backlog it yields to the event loop every {@link YIELD_AFTER_MS} ms of submitting, so its
 * lease is renewed, its offsets are committed as records finish (every `commitIntervalMs`), and the rest of the
 * process (HTTP health checks) keeps answering.
 */
export class LogConsumer {
  readonly ready: Promise<void>;
  readonly #store: LogStore;
  readonly #options: SubscribeOptions;
  readonly #onDelivery: (delivery: Delivery) => Promise<void>;
  readonly #tuning: LogConsumerTuning;
  readonly #member: MemberInfo;
  readonly #executor: KeyedExecutor;
  readonly #states = new Map<string, PartitionState>();
  readonly #toCommit = new Set<PartitionState>();
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;
  #stopping = false;
  #abandoned = false;
  #woken = false;
  #wake: (() => void) | undefined;
  #parkedStale = false;
  #lastParkedReload = 0;
  #commitTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #heartbeating: Promise<void> = Promise.resolve();
  #loop: Promise<void> = Promise.resolve();
  #unwatch: (() => void) | undefined;
  #closing: Promise<void> | undefined;
  #turnStarted = performance.now();

  constructor(
    store: LogStore,
    options: SubscribeOptions,
    onDelivery: (delivery: Delivery) => Promise<void>,
    tuning: LogConsumerTuning,
  ) {
    this.#store = store;
    this.#options = options;
    this.#onDelivery = onDelivery;
    this.#tuning = tuning;
    this.#member = { group: options.group, memberId: randomUUID(), topics: [...options.topics] };
    this.#executor = new KeyedExecutor(options.concurrency, {
      onError: (error) => this.#reportError(error),
    });
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A caller that never awaits `ready` must not see an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /** Joins the group and starts the fetch loop. */
  start(): void {
    this.#unwatch = this.#store.watch(() => {
      this.#parkedStale = true;
      this.#signal();
    });
    this.#heartbeating = this.#heartbeat().then(
      () => {
        this.#resolveReady();
        this.#scheduleHeartbeat();
        this.#loop = this.#run();
      },
      (error: unknown) => this.#rejectReady(error),
    );
  }

  #reportError(error: unknown): void {
    console.error(`[herald] ${this.#store.name} consumer ${this.#options.group}:`, error);
  }

  #signal(): void {
    this.#woken = true;
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #heartbeatSoon(): void {
    if (this.#stopping || this.#heartbeatTimer === undefined) return;
    clearTimeout(this.#heartbeatTimer);
    this.#scheduleHeartbeat(0);
  }

  #scheduleHeartbeat(delayMs = Math.max(10, Math.floor(this.#store.sessionTimeoutMs / 3))): void {
    if (this.#stopping) return;
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeatTimer = undefined;
      this.#heartbeating = this.#heartbeat()
        .catch((error: unknown) => this.#reportError(error))
        .finally(() => this.#scheduleHeartbeat());
    }, delayMs);
  }

  async #heartbeat(): Promise<void> {
    if (this.#stopping) return;
    const assignment = await this.#store.heartbeat(this.#member);
    const next = new Map(assignment.partitions.map((tp) => [keyOf(tp), tp]));
    for (const [key, state] of this.#states) {
      if (next.get(key)?.generation !== state.tp.generation) {
        state.revoked = true;
        this.#states.delete(key);
      }
    }
    for (const [key, tp] of next) {
      if (this.#states.has(key)) continue;
      const state = await this.#initPartition(tp);
      if (!this.#stopping) this.#states.set(key, state);
    }
    await this.#reloadParked();
    this.#signal();
  }

  async #initPartition(tp: OwnedPartition): Promise<PartitionState> {
    let cursor = await this.#store.committed(this.#member.group, tp);
    let lastCommitted = cursor;
    if (cursor === undefined) {
      cursor =
        this.#options.startFrom === 'latest' ? await this.#store.endOffset(tp.topic, tp.partition) : 0n;
      if (await this.#store.commit(this.#member, tp, cursor)) lastCommitted = cursor;
    }
    return {
      tp,
      cursor,
      tracker: new OffsetTracker(),
      parked: [],
      parkedKeys: new Set(),
      parkedInFlight: new Set(),
      revoked: false,
      lastCommitted,
    };
  }

  async #reloadParked(): Promise<void> {
    this.#parkedStale = false;
    this.#lastParkedReload = Date.now();
    const states = [...this.#states.values()];
    if (states.length === 0) return;
    const parked = await this.#store.parked(
      this.#member.group,
      states.map((s) => s.tp),
    );
    const byPartition = new Map<string, ParkedRecord[]>();
    for (const p of parked) {
      const key = keyOf(p.record);
      let list = byPartition.get(key);
      if (list === undefined) byPartition.set(key, (list = []));
      list.push(p);
    }
    for (const state of states) this.#setParked(state, byPartition.get(keyOf(state.tp)) ?? []);
  }

  #setParked(state: PartitionState, parked: ParkedRecord[]): void {
    state.parked = parked;
    state.parkedKeys = new Set(parked.flatMap((p) => (p.record.key === undefined ? [] : [p.record.key])));
  }

  async #reloadPartitionParked(state: PartitionState): Promise<void> {
    this.#setParked(state, await this.#store.parked(this.#member.group, [state.tp]));
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        if (this.#parkedStale && Date.now() - this.#lastParkedReload >= 100) await this.#reloadParked();
        let progressed = false;
        let nextDue = Number.POSITIVE_INFINITY;
        for (const state of [...this.#states.values()]) {
          if (state.revoked || this.#stopping) continue;
          nextDue = Math.min(nextDue, await this.#dispatchParked(state));
          const records = await this.#store.read(
            state.tp.topic,
            state.tp.partition,
            state.cursor,
            this.#tuning.fetchBatch,
          );
          for (const record of records) {
            await this.#yieldIfDue();
            if (this.#stopping || state.revoked) break;
            state.cursor = record.offset + 1n;
            state.tracker.track(record.offset);
            await this.#executor.submit(record.key, () => this.#deliverLog(state, record));
          }
          if (records.length > 0) progressed = true;
        }
        if (!progressed) await this.#idle(nextDue);
      } catch (error) {
        this.#reportError(error);
        await sleep(this.#tuning.pollIntervalMs);
      }
    }
  }

  /** Lets timers and I/O run if this loop has kept the event loop for {@link YIELD_AFTER_MS} ms. */
  async #yieldIfDue(): Promise<void> {
    if (performance.now() - this.#turnStarted < YIELD_AFTER_MS) return;
    await nextTurn();
    this.#turnStarted = performance.now();
  }

  async #idle(nextDue: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return;
    }
    const waitMs = Math.max(1, Math.min(this.#tuning.pollIntervalMs, nextDue - Date.now()));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, waitMs);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#woken = false;
  }

  /** Submits the due heads of the partition's parked records; returns when the next one is due. */
  async #dispatchParked(state: PartitionState): Promise<number> {
    let nextDue = Number.POSITIVE_INFINITY;
    if (state.parked.length === 0) return nextDue;
    const now = Date.now();
    const seenKeys = new Set<string>();
    for (const parked of state.parked) {
      await this.#yieldIfDue();
      if (this.#stopping || state.revoked) break;
      const key = parked.record.key;
      if (key !== undefined) {
        if (seenKeys.has(key)) continue;
        seenKeys.add(key);
      }
      if (state.parkedInFlight.has(parked.parkId)) continue;
      if (parked.dueAt > now) {
        nextDue = Math.min(nextDue, parked.dueAt);
        continue;
      }
      state.parkedInFlight.add(parked.parkId);
      await this.#executor.submit(key, () => this.#deliverParked(state, parked));
    }
    return nextDue;
  }

  async #deliverLog(state: PartitionState, record: StoredRecord): Promise<void> {
    // Not started before shutdown or revocation: left unfinished, so the next owner reads it again.
    if (this.#stopping || state.revoked) return;
    if (record.key !== undefined && state.parkedKeys.has(record.key)) {
      // An earlier record of this key waits for redelivery: keep the key's order by parking behind it.
      await this.#store.park(this.#member.group, record, 1, Date.now());
      await this.#reloadPartitionParked(state);
      this.#finish(state, record.offset);
      return;
    }
    await this.#onDelivery(this.#delivery(state, record, 1, undefined));
  }

  async #deliverParked(state: PartitionState, parked: ParkedRecord): Promise<void> {
    try {
      if (this.#stopping || state.revoked) return;
      await this.#onDelivery(this.#delivery(state, parked.record, parked.attempt, parked));
    } finally {
      state.parkedInFlight.delete(parked.parkId);
      this.#signal();
    }
  }

  #delivery(
    state: PartitionState,
    record: StoredRecord,
    attempt: number,
    parked: ParkedRecord | undefined,
  ): Delivery {
    let settled = false;
    const settle = async (action: () => Promise<void>): Promise<void> => {
      if (settled)
        throw new HeraldError(
          ErrorCodes.TRANSPORT,
          `Record ${record.topic}/${record.partition}/${record.offset} settled twice`,
        );
      settled = true;
      // Abandoned at shutdown: the record is redelivered to the group; touching the store now could lose it.
      if (this.#abandoned) return;
      await action();
    };
    const done = async (): Promise<void> => {
      if (parked === undefined) {
        this.#finish(state, record.offset);
        return;
      }
      await this.#store.unpark(parked.parkId);
      this.#setParked(
        state,
        state.parked.filter((p) => p.parkId !== parked.parkId),
      );
    };
    return {
      record,
      group: this.#member.group,
      partition: record.partition,
      offset: record.offset.toString(),
      attempt,
      ack: () => settle(done),
      retryLater: (delayMs: number, error: ErrorInfo) =>
        settle(async () => {
          const dueAt = Date.now() + Math.max(0, delayMs);
          if (parked === undefined) {
            await this.#store.park(this.#member.group, record, attempt + 1, dueAt, error);
            await this.#reloadPartitionParked(state);
            this.#finish(state, record.offset);
          } else {
            await this.#store.reschedule(parked.parkId, attempt + 1, dueAt, error);
            this.#setParked(
              state,
              state.parked.map((p) =>
                p.parkId === parked.parkId ? { ...p, attempt: attempt + 1, dueAt } : p,
              ),
            );
          }
        }),
      deadLetter: (failure: DeadLetterFailure) =>
        settle(async () => {
          await this.#store.deadLetter(this.#member.group, record, failure);
          await done();
        }),
    };
  }

  #finish(state: PartitionState, offset: bigint): void {
    state.tracker.finish(offset);
    this.#toCommit.add(state);
    if (this.#commitTimer === undefined) {
      this.#commitTimer = setTimeout(() => {
        this.#commitTimer = undefined;
        void this.#flushCommits().catch((error: unknown) => this.#reportError(error));
      }, this.#tuning.commitIntervalMs);
    }
  }

  async #flushCommits(): Promise<void> {
    const states = [...this.#toCommit];
    this.#toCommit.clear();
    for (const state of states) {
      const position = state.tracker.committable();
      if (position === undefined || position === state.lastCommitted) continue;
      if (await this.#store.commit(this.#member, state.tp, position)) {
        state.lastCommitted = position;
      } else if (!state.revoked) {
        // Another member owns it now (our lease lapsed or the group was seeked): stop reading it, and ask for
        // the current assignment now rather than at the next heartbeat.
        state.revoked = true;
        this.#states.delete(keyOf(state.tp));
        this.#heartbeatSoon();
      }
    }
  }

  /** The group's lag in each partition this member owns: the store's end offset minus its committed offset. */
  async lag(): Promise<ConsumerLag[]> {
    const { group } = this.#member;
    return Promise.all(
      [...this.#states.values()].map(async ({ tp }) => {
        const [end, committed] = await Promise.all([
          this.#store.endOffset(tp.topic, tp.partition),
          this.#store.committed(group, tp),
        ]);
        const lag = end - (committed ?? 0n);
        return { group, topic: tp.topic, partition: tp.partition, lag: lag > 0n ? Number(lag) : 0 };
      }),
    );
  }

  /** Stops fetching, waits for in-flight deliveries (up to the timeout), commits, and leaves the group. */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#heartbeatTimer);
    this.#unwatch?.();
    this.#signal();
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.all([this.#loop, this.#executor.idle()]).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!drained) this.#abandoned = true;
    clearTimeout(this.#commitTimer);
    this.#commitTimer = undefined;
    await this.#heartbeating.catch(() => undefined);
    await this.#flushCommits().catch((error: unknown) => this.#reportError(error));
    await this.#store.leave(this.#member).catch((error: unknown) => this.#reportError(error));
    this.#rejectReady(new HeraldError(ErrorCodes.CLOSED, 'Subscription closed before it was ready'));
  }
}
