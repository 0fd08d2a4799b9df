import {
  CloseOnce,
  ErrorCodes,
  HeraldError,
  KeyedExecutor,
  PartitionCommitter,
  Readiness,
  settlesWithin,
  type CloseOptions,
  type Delivery,
  type Lease,
  type SubscribeOptions,
  type Subscription,
  type TransportRecord,
} from '@herald/core';
import { Consumer, ConnectionPool, FetchIsolationLevels, type KafkaRecord } from '@platformatic/kafka';
import { decodeKafkaRecord } from './cloudevents-binding.ts';
import { CO_PARTITIONED_PROTOCOL, coPartitionedAssigner } from './co-partitioned-assignor.ts';
import type { Origin } from './envelopes.ts';
import {
  closeClient,
  deadLetterTopicSpec,
  eventTopicSpec,
  retryTopicSpec,
  type KafkaContext,
} from './kafka-context.ts';
import { kafkaDelivery, type KafkaDelivery, type KafkaSettleActions } from './kafka-delivery.ts';
import { transportError } from './kafka-errors.ts';
import { openPartitions, partitionKey, revokePartition, type PartitionState } from './kafka-partition.ts';
import { laneOf } from './parked-set.ts';
import { ParkedRedeliveries } from './parked-redeliveries.ts';
import { PartitionFetcher } from './partition-fetcher.ts';
import { RedeliveryWriter } from './redelivery-writer.ts';

/**
 * One member of a Kafka consumer group, with the semantics of Herald's log consumer:
 *
 * - It joins the group itself (classic protocol, Herald's co-partitioned assignor) and fetches its partitions
 *   with explicit offsets on its own connection pool ({@link PartitionFetcher}), so long-poll fetches never
 *   delay heartbeats or commits.
 * - Records go to a {@link KeyedExecutor}: order per key, parallel across keys up to `concurrency`, with
 *   back-pressure on the fetch loop.
 * - Each partition commits only below its oldest unsettled record ({@link PartitionCommitter}).
 * - `retryLater` appends the record to the group's retry topic (same partition number) with its due time and
 *   attempt in headers, and settles the original: the partition moves on. The same member owns the retry
 *   partition and redelivers its records when due ({@link ParkedRedeliveries}), parking later records of a
 *   waiting key behind them, so a key keeps its order while other keys flow.
 * - `deadLetter` appends the record to the group's dead-letter topic with the failure.
 */
export class KafkaSubscription implements Subscription {
  readonly #readiness = new Readiness();
  readonly #closer = new CloseOnce();
  readonly #ctx: KafkaContext;
  readonly #options: SubscribeOptions;
  readonly #onDelivery: (delivery: Delivery) => Promise<void>;
  readonly #group: string;
  readonly #retryTopic: string;
  readonly #deadLetterTopic: string;
  readonly #executor: KeyedExecutor;
  readonly #writer: RedeliveryWriter;
  readonly #redeliveries: ParkedRedeliveries;
  readonly #committer: PartitionCommitter<PartitionState>;
  readonly #states = new Map<string, PartitionState>();
  #consumer: Consumer | undefined;
  #pool: ConnectionPool | undefined;
  #fetcher: PartitionFetcher | undefined;
  #stopping = false;
  #abandoned = false;
  /** The membership the current partition states were assigned under. */
  #memberId: string | undefined;
  #assigning: Promise<void> = Promise.resolve();
  #loop: Promise<void> = Promise.resolve();

  constructor(
    ctx: KafkaContext,
    options: SubscribeOptions,
    onDelivery: (delivery: Delivery) => Promise<void>,
  ) {
    this.#ctx = ctx;
    this.#options = options;
    this.#onDelivery = onDelivery;
    this.#group = options.group;
    this.#retryTopic = ctx.names.retry(options.group);
    this.#deadLetterTopic = ctx.names.deadLetter(options.group);
    this.#executor = new KeyedExecutor(options.concurrency, {
      onError: (error) => this.#report('delivery', error),
    });
    this.#writer = new RedeliveryWriter(ctx, options.group);
    this.#redeliveries = new ParkedRedeliveries({
      retryTopic: this.#retryTopic,
      executor: this.#executor,
      writer: this.#writer,
      retryState: (partition) => this.#states.get(partitionKey(this.#retryTopic, partition)),
      finish: (state, offset) => this.#committer.finish(state, offset),
      delivery: (origin, record, attempt, lease, actions) =>
        this.#delivery(origin, record, attempt, lease, actions),
      onDelivery: (delivery) => this.#onDelivery(delivery),
      stopping: () => this.#stopping,
      report: (scope, error) => this.#report(scope, error),
    });
    this.#committer = new PartitionCommitter({
      intervalMs: ctx.options.commitIntervalMs,
      write: (commits) => this.#writeCommits(commits),
      onError: (error) => this.#report('commit', error),
    });
  }

  /** Resolves once the member has joined the group and set up its assigned partitions. */
  get ready(): Promise<void> {
    return this.#readiness.promise;
  }

  #report(scope: string, error: unknown): void {
    this.#ctx.reportError(`consumer ${this.#group} ${scope}`, error);
  }

  /** Creates the topics, joins the group, and starts fetching. */
  start(): void {
    this.#start().then(
      () => {
        if (this.#stopping) return;
        this.#readiness.resolve();
        this.#loop = this.#fetcher!.run();
      },
      (error: unknown) => {
        this.#readiness.reject(error);
        void this.close({ timeoutMs: 0 });
      },
    );
  }

  async #start(): Promise<void> {
    const { topics } = this.#ctx;
    const counts = await Promise.all(
      this.#options.topics.map((topic) => topics.ensure(topic, eventTopicSpec(this.#ctx.options))),
    );
    await Promise.all([
      topics.ensureAtLeast(this.#retryTopic, retryTopicSpec(Math.max(...counts))),
      topics.ensure(this.#deadLetterTopic, deadLetterTopicSpec(this.#ctx.options)),
    ]);
    if (this.#stopping) throw new HeraldError(ErrorCodes.CLOSED, 'Subscription closed before it was ready');
    const o = this.#ctx.options;
    const consumer = new Consumer({
      ...this.#ctx.clientOptions(`consumer-${this.#group}`),
      groupId: this.#group,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      protocols: [{ name: CO_PARTITIONED_PROTOCOL, version: 1 }],
      partitionAssigner: coPartitionedAssigner,
      autocommit: false,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    });
    this.#consumer = consumer;
    const pool = new ConnectionPool(`${o.clientId}-fetch-${this.#group}`, {
      connectTimeout: o.connectTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      ...(o.tls === undefined ? {} : { tls: o.tls }),
      ...(o.sasl === undefined ? {} : { sasl: o.sasl }),
    });
    this.#pool = pool;
    this.#fetcher = new PartitionFetcher({
      ctx: this.#ctx,
      consumer,
      pool,
      states: this.#states,
      fetchable: (state) => this.#fetchable(state),
      onRecord: async (state, offset, record) => {
        if (state.kind === 'event') await this.#acceptEvent(state, offset, record);
        else this.#redeliveries.accept(state, offset, record);
      },
      stopping: () => this.#stopping,
      report: (scope, error) => this.#report(scope, error),
    });
    consumer.on('error', (error: unknown) => this.#report('group', transportError('rejoin group', error)));
    consumer.on('consumer:heartbeat:error', ({ error }) => {
      if (!this.#stopping) this.#report('heartbeat', transportError('heartbeat', error));
    });
    consumer.on('consumer:group:join', () => this.#queueAssignment());
    consumer.topics.trackAll(...this.#options.topics, this.#retryTopic);
    try {
      await consumer.joinGroup({});
    } catch (error) {
      throw transportError(`join group "${this.#group}"`, error);
    }
    // The join event queued the first assignment; wait until its partitions are set up.
    await this.#assigning;
  }

  // ---------------------------------------------------------------------------------------------- assignment

  /** Applies the consumer's current assignment after any in progress; retried until it succeeds. */
  #queueAssignment(): void {
    this.#assigning = this.#assigning
      .then(() => this.#applyAssignment())
      .catch((error: unknown) => {
        this.#report('assignment', error);
        // Unapplied, the new partitions would sit unread until the next rebalance: try again shortly.
        setTimeout(() => {
          if (!this.#stopping) this.#queueAssignment();
        }, 1000).unref();
      });
  }

  async #applyAssignment(): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined || this.#stopping) return;
    const assigned = new Map<string, { topic: string; partition: number }>();
    for (const { topic, partitions } of consumer.assignments ?? []) {
      for (const partition of partitions) assigned.set(partitionKey(topic, partition), { topic, partition });
    }
    // A new member id: the old membership lapsed (session timeout) and its partitions may have been another
    // member's meanwhile, so what it held is read again from the committed offsets.
    const renewed = this.#memberId !== undefined && consumer.memberId !== this.#memberId;
    this.#memberId = consumer.memberId ?? undefined;
    const revoked: PartitionState[] = [];
    for (const [key, state] of this.#states) {
      if (assigned.has(key) && !renewed) continue;
      revokePartition(state, renewed ? 'the membership lapsed' : 'assigned to another member');
      this.#states.delete(key);
      this.#committer.forget(state);
      revoked.push(state);
      if (state.kind === 'retry') this.#redeliveries.drop(state.partition);
    }
    // Best effort: what this member settled stays settled for the next owner (a stale commit can only cause
    // redeliveries: every offset below it was settled by someone).
    if (revoked.length > 0) await this.#committer.commit(revoked).catch(() => undefined);

    const fresh = [...assigned].filter(([key]) => !this.#states.has(key)).map(([, tp]) => tp);
    if (fresh.length === 0) {
      this.#fetcher?.wake();
      return;
    }
    const opened = await openPartitions(consumer, fresh, {
      group: this.#group,
      retryTopic: this.#retryTopic,
      startFrom: this.#options.startFrom,
    });
    if (this.#stopping) return;
    const initialCommits: PartitionState[] = [];
    const freshRetry = new Set<number>();
    for (const state of opened) {
      const { topic, partition, kind } = state;
      this.#states.set(partitionKey(topic, partition), state);
      if (state.lastCommitted === undefined) initialCommits.push(state);
      if (kind === 'retry') {
        this.#redeliveries.open(partition);
        if (state.catchUpTo !== undefined) freshRetry.add(partition);
      }
    }
    // Records of a key may wait in the retry partition: read it to its end before the event partitions of the
    // same number, or a new record could overtake a parked one of its key.
    for (const state of this.#states.values()) {
      if (state.kind === 'event' && freshRetry.has(state.partition)) state.waitingForRetry = true;
    }
    // Fix where a new group starts, so a member that joins later agrees even if the log grew meanwhile.
    if (initialCommits.length > 0)
      await this.#committer.commit(initialCommits, (state) => state.cursor).catch(() => undefined);
    this.#fetcher?.wake();
  }

  // ------------------------------------------------------------------------------------------------ fetching

  #fetchable(state: PartitionState): boolean {
    if (state.revoked || state.waitingForRetry) return false;
    if (state.kind === 'event' || state.catchUpTo !== undefined) return true;
    // Enough parked records in memory: leave the rest in the log until some are redelivered.
    const parked = this.#redeliveries.of(state.partition);
    return parked === undefined || parked.readBackCount < this.#ctx.options.maxParkedPerPartition;
  }

  async #acceptEvent(state: PartitionState, offset: bigint, raw: KafkaRecord): Promise<void> {
    const { record } = decodeKafkaRecord(state.topic, raw.key, raw.value, raw.headers);
    state.tracker.track(offset);
    const origin: Origin = { topic: state.topic, partition: state.partition, offset };
    await this.#executor.submit(record.key, () => this.#deliverEvent(state, origin, record));
  }

  // ---------------------------------------------------------------------------------------------- delivering

  async #deliverEvent(state: PartitionState, origin: Origin, record: TransportRecord): Promise<void> {
    // Not started before shutdown or revocation: left unsettled, so the next owner delivers it.
    if (this.#stopping || state.revoked) return;
    const parked = this.#redeliveries.of(state.partition);
    if (parked?.hasOrigin(origin)) {
      // Already in the retry topic (read again after a restart): that copy is the one to deliver.
      this.#committer.finish(state, origin.offset);
      return;
    }
    if (parked?.isLaneParked(laneOf(origin.topic, record.key))) {
      // An earlier record of this key waits for redelivery: keep the key's order by parking behind it.
      try {
        parked.produced(await this.#writer.retry(origin, record, 1, Date.now()));
        this.#committer.finish(state, origin.offset);
        this.#redeliveries.kick();
      } catch (error) {
        this.#report('park', error);
        this.#retryEventLater(state, origin, record);
      }
      return;
    }
    const delivery = this.#delivery(origin, record, 1, state.lease, {
      ack: () => {
        this.#committer.finish(state, origin.offset);
        return Promise.resolve();
      },
      retryLater: async (delayMs) => {
        const entry = await this.#writer.retry(origin, record, 2, Date.now() + Math.max(0, delayMs));
        this.#redeliveries.of(origin.partition)?.produced(entry);
        this.#committer.finish(state, origin.offset);
        this.#redeliveries.kick();
      },
      deadLetter: async (failure) => {
        await this.#writer.deadLetter(origin, record, failure);
        this.#committer.finish(state, origin.offset);
      },
    });
    await this.#onDelivery(delivery.delivery);
    if (delivery.failed()) this.#retryEventLater(state, origin, record);
  }

  /** A settle of an event record failed (broker unreachable): deliver it again after a pause. */
  #retryEventLater(state: PartitionState, origin: Origin, record: TransportRecord): void {
    setTimeout(() => {
      if (this.#stopping || state.revoked) return;
      void this.#executor
        .submit(record.key, () => this.#deliverEvent(state, origin, record))
        .catch((error: unknown) => this.#report('delivery', error));
    }, 1000).unref();
  }

  #delivery(
    origin: Origin,
    record: TransportRecord,
    attempt: number,
    lease: Lease,
    actions: KafkaSettleActions,
  ): KafkaDelivery {
    return kafkaDelivery(this.#group, origin, record, attempt, lease, actions, () => this.#abandoned);
  }

  // ------------------------------------------------------------------------------------------------ commits

  /** Commits the positions in one request; the broker takes all or none. */
  async #writeCommits(
    commits: readonly { partition: PartitionState; position: bigint }[],
  ): Promise<readonly { partition: PartitionState; position: bigint }[]> {
    if (this.#consumer === undefined) return [];
    const offsets = commits.map(({ partition: state, position }) => ({
      topic: state.topic,
      partition: state.partition,
      offset: position,
      leaderEpoch: -1,
    }));
    try {
      await this.#consumer.commit({ offsets });
    } catch (error) {
      throw transportError(`commit offsets of group "${this.#group}"`, error);
    }
    return commits;
  }

  // -------------------------------------------------------------------------------------------------- close

  /** Stops fetching, waits for in-flight deliveries (up to the timeout), commits, and leaves the group. */
  close(options: CloseOptions = {}): Promise<void> {
    return this.#closer.run(options, (timeoutMs) => this.#close(timeoutMs));
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    this.#redeliveries.stop();
    this.#fetcher?.wake();
    if (!(await settlesWithin(Promise.all([this.#loop, this.#executor.idle()]), timeoutMs))) {
      this.#abandoned = true;
      for (const state of this.#states.values())
        state.lease.lose(`${state.topic}/${state.partition} (abandoned)`);
    }
    this.#committer.stop();
    await this.#assigning.catch(() => undefined);
    // Best effort, as the positions a next owner would otherwise start from are only older.
    await this.#committer.flush().catch(() => undefined);
    this.#readiness.closed();
    const consumer = this.#consumer;
    if (consumer !== undefined) {
      // Leaving the group hands the partitions over at once instead of after the session timeout.
      await closeClient(consumer).catch((error: unknown) => this.#report('leave', error));
    }
    await this.#pool?.close().catch(() => undefined);
  }
}
