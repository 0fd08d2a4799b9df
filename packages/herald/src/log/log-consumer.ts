import { randomUUID } from 'node:crypto';
import { sleep } from '../backoff.ts';
import { CloseOnce, settlesWithin } from '../consumer-kit/close-within.ts';
import { PartitionCommitter, type PositionCommit } from '../consumer-kit/partition-committer.ts';
import { Readiness } from '../consumer-kit/readiness.ts';
import { settleOnce } from '../consumer-kit/settle-once.ts';
import type { ErrorInfo } from '../errors.ts';
import { KeyedExecutor } from '../keyed-executor.ts';
import type {
  CloseOptions,
  ConsumerLag,
  DeadLetterFailure,
  Delivery,
  SubscribeOptions,
} from '../transport.ts';
import { LogPartition, partitionKey } from './log-partition.ts';
import type { LogStore, MemberInfo, OwnedPartition, ParkedRecord, StoredRecord } from './log-store.ts';

/** Tuning of a {@link LogConsumer}, from `logTransport` options. */
export interface LogConsumerTuning {
  readonly pollIntervalMs: number;
  readonly fetchBatch: number;
  readonly commitIntervalMs: number;
}

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
  readonly #readiness = new Readiness();
  readonly #store: LogStore;
  readonly #options: SubscribeOptions;
  readonly #onDelivery: (delivery: Delivery) => Promise<void>;
  readonly #tuning: LogConsumerTuning;
  readonly #member: MemberInfo;
  readonly #executor: KeyedExecutor;
  readonly #states = new Map<string, LogPartition>();
  readonly #committer: PartitionCommitter<LogPartition>;
  readonly #closer = new CloseOnce();
  #stopping = false;
  #abandoned = false;
  #woken = false;
  #wake: (() => void) | undefined;
  #parkedStale = false;
  #lastParkedReload = 0;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #heartbeating: Promise<void> = Promise.resolve();
  #loop: Promise<void> = Promise.resolve();
  #unwatch: (() => void) | undefined;
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
    this.#committer = new PartitionCommitter({
      intervalMs: tuning.commitIntervalMs,
      write: (commits) => this.#writeCommits(commits),
      onError: (error) => this.#reportError(error),
    });
  }

  /** Resolves once the member holds its share of the group's partitions and reads them. */
  get ready(): Promise<void> {
    return this.#readiness.promise;
  }

  /** Joins the group and starts the fetch loop. */
  start(): void {
    this.#unwatch = this.#store.watch(() => {
      this.#parkedStale = true;
      this.#signal();
    });
    this.#heartbeating = this.#heartbeat().then(
      () => {
        this.#readiness.resolve();
        this.#scheduleHeartbeat();
        this.#loop = this.#run();
      },
      (error: unknown) => this.#readiness.reject(error),
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
    const next = new Map(assignment.partitions.map((tp) => [partitionKey(tp), tp]));
    for (const [key, state] of this.#states) {
      if (next.get(key)?.generation !== state.tp.generation) {
        state.revoke('assigned to another member, or seeked');
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

  async #initPartition(tp: OwnedPartition): Promise<LogPartition> {
    let cursor = await this.#store.committed(this.#member.group, tp);
    let lastCommitted = cursor;
    if (cursor === undefined) {
      cursor =
        this.#options.startFrom === 'latest' ? await this.#store.endOffset(tp.topic, tp.partition) : 0n;
      if (await this.#store.commit(this.#member, tp, cursor)) lastCommitted = cursor;
    }
    return new LogPartition(tp, cursor, lastCommitted);
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
      const key = partitionKey(p.record);
      let list = byPartition.get(key);
      if (list === undefined) byPartition.set(key, (list = []));
      list.push(p);
    }
    for (const state of states) state.setParked(byPartition.get(partitionKey(state.tp)) ?? []);
  }

  async #reloadPartitionParked(state: LogPartition): Promise<void> {
    state.setParked(await this.#store.parked(this.#member.group, [state.tp]));
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
  async #dispatchParked(state: LogPartition): Promise<number> {
    if (state.parked.length === 0) return Number.POSITIVE_INFINITY;
    const { due, nextDue } = state.due(Date.now());
    for (const parked of due) {
      await this.#yieldIfDue();
      if (this.#stopping || state.revoked) break;
      state.parkedInFlight.add(parked.parkId);
      await this.#executor.submit(parked.record.key, () => this.#deliverParked(state, parked));
    }
    return nextDue;
  }

  async #deliverLog(state: LogPartition, record: StoredRecord): Promise<void> {
    // Not started before shutdown or revocation: left unfinished, so the next owner reads it again.
    if (this.#stopping || state.revoked) return;
    if (state.isKeyParked(record.key)) {
      // An earlier record of this key waits for redelivery: keep the key's order by parking behind it.
      await this.#store.park(this.#member.group, record, 1, Date.now());
      await this.#reloadPartitionParked(state);
      this.#committer.finish(state, record.offset);
      return;
    }
    await this.#onDelivery(this.#delivery(state, record, 1, undefined));
  }

  async #deliverParked(state: LogPartition, parked: ParkedRecord): Promise<void> {
    try {
      if (this.#stopping || state.revoked) return;
      await this.#onDelivery(this.#delivery(state, parked.record, parked.attempt, parked));
    } finally {
      state.parkedInFlight.delete(parked.parkId);
      this.#signal();
    }
  }

  #delivery(
    state: LogPartition,
    record: StoredRecord,
    attempt: number,
    parked: ParkedRecord | undefined,
  ): Delivery {
    const { group } = this.#member;
    const done = async (): Promise<void> => {
      if (parked === undefined) {
        this.#committer.finish(state, record.offset);
        return;
      }
      await this.#store.unpark(parked.parkId);
      state.unparked(parked.parkId);
    };
    return settleOnce(
      {
        record,
        group,
        partition: record.partition,
        offset: record.offset.toString(),
        attempt,
        signal: state.lease.signal,
      },
      {
        ack: done,
        retryLater: async (delayMs: number, error: ErrorInfo) => {
          const dueAt = Date.now() + Math.max(0, delayMs);
          if (parked === undefined) {
            await this.#store.park(group, record, attempt + 1, dueAt, error);
            await this.#reloadPartitionParked(state);
            this.#committer.finish(state, record.offset);
          } else {
            await this.#store.reschedule(parked.parkId, attempt + 1, dueAt, error);
            state.rescheduled(parked.parkId, attempt + 1, dueAt);
          }
        },
        deadLetter: async (failure: DeadLetterFailure) => {
          await this.#store.deadLetter(group, record, failure);
          await done();
        },
      },
      {
        subject: `Record ${record.topic}/${record.partition}/${record.offset}`,
        // Abandoned at shutdown or revoked: the record is redelivered to the group; touching the store now could
        // lose or duplicate it.
        skip: () => this.#abandoned || state.lease.lost,
      },
    );
  }

  /** Writes commit positions; a partition whose commit the store refuses is another member's now. */
  async #writeCommits(
    commits: readonly PositionCommit<LogPartition>[],
  ): Promise<PositionCommit<LogPartition>[]> {
    const accepted: PositionCommit<LogPartition>[] = [];
    for (const commit of commits) {
      const state = commit.partition;
      if (await this.#store.commit(this.#member, state.tp, commit.position)) {
        accepted.push(commit);
      } else if (!state.revoked) {
        // Another member owns it now (our lease lapsed or the group was seeked): stop reading it, and ask for
        // the current assignment now rather than at the next heartbeat.
        state.revoke('the store refused its commit: another member owns it');
        this.#states.delete(partitionKey(state.tp));
        this.#heartbeatSoon();
      }
    }
    return accepted;
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
    return this.#closer.run(options, (timeoutMs) => this.#close(timeoutMs));
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#heartbeatTimer);
    this.#unwatch?.();
    this.#signal();
    if (!(await settlesWithin(Promise.all([this.#loop, this.#executor.idle()]), timeoutMs))) {
      this.#abandoned = true;
      for (const { tp, lease } of this.#states.values())
        lease.lose(`${tp.topic}/${tp.partition} (abandoned)`);
    }
    this.#committer.stop();
    await this.#heartbeating.catch(() => undefined);
    await this.#committer.flush().catch((error: unknown) => this.#reportError(error));
    await this.#store.leave(this.#member).catch((error: unknown) => this.#reportError(error));
    this.#readiness.closed();
  }
}
