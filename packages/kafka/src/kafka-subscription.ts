import {
  ErrorCodes,
  HeraldError,
  KeyedExecutor,
  OffsetTracker,
  type CloseOptions,
  type DeadLetterFailure,
  type Delivery,
  type ErrorInfo,
  type SubscribeOptions,
  type Subscription,
  type TransportRecord,
} from '@herald/core';
import {
  Consumer,
  ConnectionPool,
  FetchIsolationLevels,
  IS_CONTROL,
  ListOffsetTimestamps,
  type ClusterMetadata,
  type FetchOptions,
  type KafkaRecord,
} from '@platformatic/kafka';
import { decodeKafkaRecord, encodeHeaders } from './cloudevents-binding.ts';
import { CO_PARTITIONED_PROTOCOL, coPartitionedAssigner } from './co-partitioned-assignor.ts';
import { deadLetterControl, originKey, parseRetryControl, retryControl, type Origin } from './envelopes.ts';
import { deadLetterTopicSpec, eventTopicSpec, retryTopicSpec, type KafkaContext } from './kafka-context.ts';
import { KafkaErrorCodes, transportError } from './kafka-errors.ts';
import { closeClient } from './kafka-context.ts';
import { laneOf, ParkedSet, type ParkedEntry } from './parked-set.ts';

/** What the subscription knows of one assigned partition (an event topic's or the retry topic's). */
interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly kind: 'event' | 'retry';
  /** Next offset to fetch. */
  cursor: bigint;
  readonly tracker: OffsetTracker;
  lastCommitted: bigint | undefined;
  revoked: boolean;
  /** Event partitions: held until the retry partition of the same number has been read up to its end. */
  waitingForRetry: boolean;
  /** Retry partitions: the end offset at assignment, to read before its event partitions are released. */
  catchUpTo: bigint | undefined;
}

type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;
type FetchResponsePartition = FetchResponse['responses'][number]['partitions'][number];
type FetchRequestTopic = FetchOptions<Buffer, Buffer, Buffer, Buffer>['topics'][number];

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * One member of a Kafka consumer group, with the semantics of Herald's log consumer:
 *
 * - It joins the group itself (classic protocol, Herald's co-partitioned assignor) and fetches its partitions
 *   with explicit offsets on its own connection pool, so long-poll fetches never delay heartbeats or commits.
 * - Records go to a {@link KeyedExecutor}: order per key, parallel across keys up to `concurrency`, with
 *   back-pressure on the fetch loop.
 * - Each partition commits only below its oldest unsettled record ({@link OffsetTracker}).
 * - `retryLater` appends the record to the group's retry topic (same partition number) with its due time and
 *   attempt in headers, and settles the original: the partition moves on. The same member owns the retry
 *   partition, holds its records in a {@link ParkedSet} until due, and parks later records of a waiting key
 *   behind them, so a key keeps its order while other keys flow.
 * - `deadLetter` appends the record to the group's dead-letter topic with the failure.
 */
export class KafkaSubscription implements Subscription {
  readonly ready: Promise<void>;
  readonly #ctx: KafkaContext;
  readonly #options: SubscribeOptions;
  readonly #onDelivery: (delivery: Delivery) => Promise<void>;
  readonly #group: string;
  readonly #retryTopic: string;
  readonly #deadLetterTopic: string;
  readonly #executor: KeyedExecutor;
  readonly #states = new Map<string, PartitionState>();
  readonly #parked = new Map<number, ParkedSet>();
  readonly #dirty = new Set<PartitionState>();
  #consumer: Consumer | undefined;
  #pool: ConnectionPool | undefined;
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;
  #stopping = false;
  #abandoned = false;
  #assigning: Promise<void> = Promise.resolve();
  #loop: Promise<void> = Promise.resolve();
  #wakeLoop: (() => void) | undefined;
  #commitTimer: NodeJS.Timeout | undefined;
  #committing: Promise<void> = Promise.resolve();
  #parkedTimer: NodeJS.Timeout | undefined;
  #kickPending = false;
  #dispatching = false;
  #dispatchAgain = false;
  #closing: Promise<void> | undefined;

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
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // A caller that never awaits `ready` must not see an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  #report(scope: string, error: unknown): void {
    this.#ctx.reportError(`consumer ${this.#group} ${scope}`, error);
  }

  /** Creates the topics, joins the group, and starts fetching. */
  start(): void {
    this.#start().then(
      () => {
        if (this.#stopping) return;
        this.#resolveReady();
        this.#loop = this.#fetchLoop();
      },
      (error: unknown) => {
        this.#rejectReady(error);
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
    this.#pool = new ConnectionPool(`${o.clientId}-fetch-${this.#group}`, {
      connectTimeout: o.connectTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      ...(o.tls === undefined ? {} : { tls: o.tls }),
      ...(o.sasl === undefined ? {} : { sasl: o.sasl }),
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
      for (const partition of partitions) assigned.set(keyOf(topic, partition), { topic, partition });
    }
    const revoked: PartitionState[] = [];
    for (const [key, state] of this.#states) {
      if (assigned.has(key)) continue;
      state.revoked = true;
      this.#states.delete(key);
      this.#dirty.delete(state);
      revoked.push(state);
      if (state.kind === 'retry') {
        this.#parked.get(state.partition)?.clear();
        this.#parked.delete(state.partition);
      }
    }
    // Best effort: what this member settled stays settled for the next owner (a stale commit can only cause
    // redeliveries: every offset below it was settled by someone).
    if (revoked.length > 0) await this.#commitStates(revoked).catch(() => undefined);

    const fresh = [...assigned].filter(([key]) => !this.#states.has(key)).map(([, tp]) => tp);
    if (fresh.length === 0) {
      this.#wake();
      return;
    }
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of fresh) {
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      list.push(partition);
    }
    let committed: Map<string, bigint[]>;
    let earliest: Map<string, bigint[]>;
    let latest: Map<string, bigint[]>;
    try {
      const topics = [...byTopic.keys()];
      const partitions = Object.fromEntries(byTopic);
      [committed, earliest, latest] = await Promise.all([
        consumer.listCommittedOffsets({
          topics: [...byTopic].map(([topic, list]) => ({ topic, partitions: list })),
        }),
        consumer.listOffsets({ topics, partitions, timestamp: ListOffsetTimestamps.EARLIEST }),
        consumer.listOffsets({ topics, partitions, timestamp: ListOffsetTimestamps.LATEST }),
      ]);
    } catch (error) {
      throw transportError(`read the offsets of group "${this.#group}"`, error);
    }
    if (this.#stopping) return;
    const initialCommits: PartitionState[] = [];
    const freshRetry = new Set<number>();
    for (const { topic, partition } of fresh) {
      const kind = topic === this.#retryTopic ? 'retry' : 'event';
      const stored = committed.get(topic)?.[partition];
      const end = latest.get(topic)?.[partition] ?? 0n;
      let cursor: bigint;
      if (stored !== undefined && stored >= 0n) cursor = stored;
      else if (kind === 'event' && this.#options.startFrom === 'latest') cursor = end;
      else cursor = earliest.get(topic)?.[partition] ?? 0n;
      const state: PartitionState = {
        topic,
        partition,
        kind,
        cursor,
        tracker: new OffsetTracker(),
        lastCommitted: stored !== undefined && stored >= 0n ? stored : undefined,
        revoked: false,
        waitingForRetry: false,
        catchUpTo: kind === 'retry' && end > cursor ? end : undefined,
      };
      this.#states.set(keyOf(topic, partition), state);
      if (state.lastCommitted === undefined) initialCommits.push(state);
      if (kind === 'retry') {
        this.#parked.set(partition, new ParkedSet());
        if (state.catchUpTo !== undefined) freshRetry.add(partition);
      }
    }
    // Records of a key may wait in the retry partition: read it to its end before the event partitions of the
    // same number, or a new record could overtake a parked one of its key.
    for (const state of this.#states.values()) {
      if (state.kind === 'event' && freshRetry.has(state.partition)) state.waitingForRetry = true;
    }
    // Fix where a new group starts, so a member that joins later agrees even if the log grew meanwhile.
    if (initialCommits.length > 0) await this.#commitStates(initialCommits, true).catch(() => undefined);
    this.#wake();
  }

  // ------------------------------------------------------------------------------------------------ fetching

  #wake(): void {
    const wake = this.#wakeLoop;
    this.#wakeLoop = undefined;
    wake?.();
  }

  async #fetchLoop(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      const states = [...this.#states.values()].filter((s) => this.#fetchable(s));
      if (states.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#ctx.options.maxWaitMs);
          this.#wakeLoop = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      try {
        const consumer = this.#consumer!;
        const metadata = await consumer.metadata({ topics: consumer.topics.current });
        const byLeader = new Map<number, PartitionState[]>();
        for (const state of states) {
          const leader = metadata.topics.get(state.topic)?.partitions[state.partition]?.leader;
          if (leader === undefined || leader < 0) continue;
          let list = byLeader.get(leader);
          if (list === undefined) byLeader.set(leader, (list = []));
          list.push(state);
        }
        if (byLeader.size === 0) {
          consumer.clearMetadata();
          await sleep(100);
          continue;
        }
        await Promise.all([...byLeader].map(([leader, list]) => this.#fetchFrom(leader, list, metadata)));
        failures = 0;
      } catch (error) {
        if (this.#stopping) break;
        failures++;
        this.#report('fetch', transportError('fetch', error));
        this.#consumer?.clearMetadata();
        await sleep(Math.min(2000, 50 * 2 ** failures));
      }
    }
  }

  #fetchable(state: PartitionState): boolean {
    if (state.revoked || state.waitingForRetry) return false;
    if (state.kind === 'event' || state.catchUpTo !== undefined) return true;
    // Enough parked records in memory: leave the rest in the log until some are redelivered.
    const parked = this.#parked.get(state.partition);
    return parked === undefined || parked.readBackCount < this.#ctx.options.maxParkedPerPartition;
  }

  async #fetchFrom(leader: number, states: PartitionState[], metadata: ClusterMetadata): Promise<void> {
    const o = this.#ctx.options;
    const topicNames = new Map<string, string>();
    const requests = new Map<string, FetchRequestTopic>();
    const requested = new Map<PartitionState, bigint>();
    for (const state of states) {
      const topicId = metadata.topics.get(state.topic)!.id;
      topicNames.set(topicId, state.topic);
      let request = requests.get(topicId);
      if (request === undefined) requests.set(topicId, (request = { topicId, partitions: [] }));
      request.partitions.push({
        partition: state.partition,
        fetchOffset: state.cursor,
        partitionMaxBytes: o.fetchMaxBytesPerPartition,
        currentLeaderEpoch: -1,
        lastFetchedEpoch: -1,
      });
      requested.set(state, state.cursor);
    }
    let response: FetchResponse;
    try {
      response = await this.#consumer!.fetch({
        node: leader,
        topics: [...requests.values()],
        connectionPool: this.#pool!,
        maxWaitTime: o.maxWaitMs,
        minBytes: 1,
        maxBytes: o.fetchMaxBytesPerPartition * Math.max(1, states.length),
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      });
    } catch (error) {
      if (this.#stopping) return;
      const partial = (error as { response?: FetchResponse }).response;
      if (partial !== undefined && this.#resetOutOfRange(partial, topicNames, requested)) return;
      throw transportError('fetch', error);
    }
    for (const topicResponse of response.responses) {
      const topic = topicNames.get(topicResponse.topicId);
      if (topic === undefined) continue;
      for (const partition of topicResponse.partitions) {
        const state = this.#states.get(keyOf(topic, partition.partitionIndex));
        if (state === undefined || state.revoked || requested.get(state) !== state.cursor) continue;
        await this.#consumePartition(state, partition);
        if (this.#stopping) return;
      }
    }
  }

  /** Moves partitions whose position fell out of the log (retention) to its start; true if any was. */
  #resetOutOfRange(
    response: FetchResponse,
    topicNames: Map<string, string>,
    requested: Map<PartitionState, bigint>,
  ): boolean {
    let reset = false;
    for (const topicResponse of response.responses) {
      const topic = topicNames.get(topicResponse.topicId);
      if (topic === undefined) continue;
      for (const partition of topicResponse.partitions) {
        if (partition.errorCode !== KafkaErrorCodes.OFFSET_OUT_OF_RANGE) continue;
        const state = this.#states.get(keyOf(topic, partition.partitionIndex));
        if (state === undefined || requested.get(state) !== state.cursor) continue;
        this.#report(
          'fetch',
          new Error(
            `${topic}/${partition.partitionIndex}: offset ${state.cursor} is no longer in the log; ` +
              `resuming at ${partition.logStartOffset}`,
          ),
        );
        state.cursor = partition.logStartOffset >= 0n ? partition.logStartOffset : 0n;
        reset = true;
      }
    }
    return reset;
  }

  async #consumePartition(state: PartitionState, partition: FetchResponsePartition): Promise<void> {
    for (const batch of partition.records ?? []) {
      if ((batch.attributes & IS_CONTROL) === 0) {
        for (const record of batch.records) {
          if (this.#stopping || state.revoked) return;
          const offset = batch.firstOffset + BigInt(record.offsetDelta);
          if (offset < state.cursor) continue;
          state.cursor = offset + 1n;
          if (state.kind === 'event') await this.#acceptEvent(state, offset, record);
          else this.#acceptRetry(state, offset, record);
        }
      }
      const next = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
      if (next > state.cursor) state.cursor = next;
    }
    if (state.kind === 'retry' && state.catchUpTo !== undefined) {
      const atEnd = (partition.records?.length ?? 0) === 0 && partition.highWatermark <= state.cursor;
      if (state.cursor >= state.catchUpTo || atEnd) {
        state.catchUpTo = undefined;
        for (const other of this.#states.values()) {
          if (other.kind === 'event' && other.partition === state.partition) other.waitingForRetry = false;
        }
      }
    }
  }

  async #acceptEvent(state: PartitionState, offset: bigint, raw: KafkaRecord): Promise<void> {
    const { record } = decodeKafkaRecord(state.topic, raw.key, raw.value, raw.headers);
    state.tracker.track(offset);
    const origin: Origin = { topic: state.topic, partition: state.partition, offset };
    await this.#executor.submit(record.key, () => this.#deliverEvent(state, origin, record));
  }

  #acceptRetry(state: PartitionState, offset: bigint, raw: KafkaRecord): void {
    const { record, control } = decodeKafkaRecord(this.#retryTopic, raw.key, raw.value, raw.headers);
    state.tracker.track(offset);
    const parked = this.#parked.get(state.partition);
    if (parked === undefined) return; // revoked meanwhile: the next owner reads it
    const envelope = parseRetryControl(control);
    // A record something else wrote to the retry topic: deliver it once, as itself.
    const origin: Origin = envelope?.origin ?? {
      topic: this.#retryTopic,
      partition: state.partition,
      offset,
    };
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
    if (outcome.kind === 'stale') this.#finish(state, offset);
    else if (outcome.kind === 'replaced') this.#finish(state, outcome.finish);
    this.#kickParked();
  }

  // ---------------------------------------------------------------------------------------------- delivering

  async #deliverEvent(state: PartitionState, origin: Origin, record: TransportRecord): Promise<void> {
    // Not started before shutdown or revocation: left unsettled, so the next owner delivers it.
    if (this.#stopping || state.revoked) return;
    const parked = this.#parked.get(state.partition);
    if (parked?.hasOrigin(origin)) {
      // Already in the retry topic (read again after a restart): that copy is the one to deliver.
      this.#finish(state, origin.offset);
      return;
    }
    if (parked?.isLaneParked(laneOf(origin.topic, record.key))) {
      // An earlier record of this key waits for redelivery: keep the key's order by parking behind it.
      try {
        parked.produced(await this.#appendRetry(origin, record, 1, Date.now()));
        this.#finish(state, origin.offset);
        this.#kickParked();
      } catch (error) {
        this.#report('park', error);
        this.#retryEventLater(state, origin, record);
      }
      return;
    }
    const delivery = this.#delivery(origin, record, 1, {
      ack: () => {
        this.#finish(state, origin.offset);
        return Promise.resolve();
      },
      retryLater: async (delayMs) => {
        const entry = await this.#appendRetry(origin, record, 2, Date.now() + Math.max(0, delayMs));
        this.#parked.get(origin.partition)?.produced(entry);
        this.#finish(state, origin.offset);
        this.#kickParked();
      },
      deadLetter: async (failure) => {
        await this.#appendDeadLetter(origin, record, failure);
        this.#finish(state, origin.offset);
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

  async #deliverParked(parked: ParkedSet, state: PartitionState, entry: ParkedEntry): Promise<void> {
    try {
      if (this.#stopping || state.revoked) return;
      const settle = (finish: bigint[]): void => {
        for (const offset of finish) this.#finish(state, offset);
        this.#finish(state, entry.retryOffset);
      };
      const delivery = this.#delivery(entry.origin, entry.record, entry.attempt, {
        ack: () => {
          settle(parked.settle(entry));
          return Promise.resolve();
        },
        retryLater: async (delayMs) => {
          const next = await this.#appendRetry(
            entry.origin,
            entry.record,
            entry.attempt + 1,
            Date.now() + Math.max(0, delayMs),
          );
          settle(parked.reschedule(entry, next));
        },
        deadLetter: async (failure) => {
          await this.#appendDeadLetter(entry.origin, entry.record, failure);
          settle(parked.settle(entry));
        },
      });
      await this.#onDelivery(delivery.delivery);
      // A failed settle leaves the entry parked: try again in a moment rather than at once.
      if (delivery.failed()) entry.dueAt = Date.now() + 1000;
    } finally {
      entry.inFlight = false;
      this.#kickParked();
    }
  }

  #delivery(
    origin: Origin,
    record: TransportRecord,
    attempt: number,
    actions: {
      ack: () => Promise<void>;
      retryLater: (delayMs: number) => Promise<void>;
      deadLetter: (failure: DeadLetterFailure) => Promise<void>;
    },
  ): { delivery: Delivery; failed: () => boolean } {
    let settled = false;
    let failed = false;
    const settle = async (action: () => Promise<void>): Promise<void> => {
      if (settled) {
        throw new HeraldError(
          ErrorCodes.TRANSPORT,
          `Record ${origin.topic}/${origin.partition}/${origin.offset} settled twice`,
        );
      }
      settled = true;
      // Abandoned at shutdown: the record is redelivered to the group; acting now could lose it.
      if (this.#abandoned) return;
      try {
        await action();
      } catch (error) {
        failed = true;
        throw transportError('settle a delivery', error);
      }
    };
    const delivery: Delivery = {
      record,
      group: this.#group,
      partition: origin.partition,
      offset: origin.offset.toString(),
      attempt,
      ack: () => settle(actions.ack),
      retryLater: (delayMs: number, _error: ErrorInfo) => settle(() => actions.retryLater(delayMs)),
      deadLetter: (failure: DeadLetterFailure) => settle(() => actions.deadLetter(failure)),
    };
    return { delivery, failed: () => failed };
  }

  async #appendRetry(
    origin: Origin,
    record: TransportRecord,
    attempt: number,
    dueAt: number,
  ): Promise<ParkedEntry> {
    const [retryOffset] = await this.#ctx.sender.send([
      {
        topic: this.#retryTopic,
        partition: origin.partition,
        key: record.key === undefined ? undefined : Buffer.from(record.key, 'utf8'),
        value: toBuffer(record.data),
        headers: encodeHeaders(
          record.attributes,
          retryControl({ group: this.#group, origin, attempt, dueAt }),
        ),
      },
    ]);
    return {
      origin,
      originKey: originKey(origin),
      lane: laneOf(origin.topic, record.key),
      record,
      attempt,
      dueAt,
      retryOffset: retryOffset!,
      readBack: false,
      inFlight: false,
    };
  }

  async #appendDeadLetter(
    origin: Origin,
    record: TransportRecord,
    failure: DeadLetterFailure,
  ): Promise<void> {
    await this.#ctx.sender.send([
      {
        topic: this.#deadLetterTopic,
        partition: 0,
        key: record.key === undefined ? undefined : Buffer.from(record.key, 'utf8'),
        value: toBuffer(record.data),
        headers: encodeHeaders(
          record.attributes,
          deadLetterControl({
            group: this.#group,
            origin,
            failure,
            deadLetteredAt: new Date().toISOString(),
          }),
        ),
      },
    ]);
  }

  // ------------------------------------------------------------------------------------ parked redeliveries

  #kickParked(): void {
    if (this.#kickPending || this.#stopping) return;
    this.#kickPending = true;
    queueMicrotask(() => {
      this.#kickPending = false;
      void this.#dispatchParked().catch((error: unknown) => this.#report('redelivery', error));
    });
  }

  /** Submits every due head of the parked records, then sleeps until the next one falls due. */
  async #dispatchParked(): Promise<void> {
    if (this.#dispatching) {
      this.#dispatchAgain = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#dispatchAgain = false;
        clearTimeout(this.#parkedTimer);
        let nextDueAt = Number.POSITIVE_INFINITY;
        for (const [partition, parked] of this.#parked) {
          const state = this.#states.get(keyOf(this.#retryTopic, partition));
          if (state === undefined) continue;
          const { ready, nextDueAt: due } = parked.takeDue(Date.now());
          nextDueAt = Math.min(nextDueAt, due);
          for (const entry of ready) {
            if (this.#stopping || state.revoked) {
              entry.inFlight = false;
              continue;
            }
            await this.#executor.submit(entry.record.key, () => this.#deliverParked(parked, state, entry));
          }
        }
        if (nextDueAt !== Number.POSITIVE_INFINITY && !this.#stopping) {
          this.#parkedTimer = setTimeout(() => this.#kickParked(), Math.max(1, nextDueAt - Date.now()));
        }
      } while (this.#dispatchAgain && !this.#stopping);
    } finally {
      this.#dispatching = false;
    }
  }

  // ------------------------------------------------------------------------------------------------ commits

  #finish(state: PartitionState, offset: bigint): void {
    state.tracker.finish(offset);
    if (state.revoked) return;
    this.#dirty.add(state);
    if (this.#commitTimer === undefined && !this.#stopping) {
      this.#commitTimer = setTimeout(() => {
        this.#commitTimer = undefined;
        void this.#flushCommits();
      }, this.#ctx.options.commitIntervalMs);
    }
  }

  #flushCommits(): Promise<void> {
    this.#committing = this.#committing.then(async () => {
      const states = [...this.#dirty];
      this.#dirty.clear();
      try {
        await this.#commitStates(states);
      } catch (error) {
        for (const state of states) if (!state.revoked) this.#dirty.add(state);
        if (!this.#stopping) {
          this.#report('commit', error);
          this.#commitTimer ??= setTimeout(() => {
            this.#commitTimer = undefined;
            void this.#flushCommits();
          }, 500);
        }
      }
    });
    return this.#committing;
  }

  /** Commits each state's safe position (below its oldest unsettled record), or its cursor when `initial`. */
  async #commitStates(states: readonly PartitionState[], initial = false): Promise<void> {
    const offsets: { topic: string; partition: number; offset: bigint; leaderEpoch: number }[] = [];
    const committing: [PartitionState, bigint][] = [];
    for (const state of states) {
      const position = initial ? state.cursor : state.tracker.committable();
      if (position === undefined || position === state.lastCommitted) continue;
      offsets.push({ topic: state.topic, partition: state.partition, offset: position, leaderEpoch: -1 });
      committing.push([state, position]);
    }
    if (offsets.length === 0 || this.#consumer === undefined) return;
    try {
      await this.#consumer.commit({ offsets });
    } catch (error) {
      throw transportError(`commit offsets of group "${this.#group}"`, error);
    }
    for (const [state, position] of committing) state.lastCommitted = position;
  }

  // -------------------------------------------------------------------------------------------------- close

  /** Stops fetching, waits for in-flight deliveries (up to the timeout), commits, and leaves the group. */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closing;
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#parkedTimer);
    this.#wake();
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.all([this.#loop, this.#executor.idle()]).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!drained) this.#abandoned = true;
    clearTimeout(this.#commitTimer);
    this.#commitTimer = undefined;
    await this.#assigning.catch(() => undefined);
    await this.#flushCommits();
    this.#rejectReady(new HeraldError(ErrorCodes.CLOSED, 'Subscription closed before it was ready'));
    const consumer = this.#consumer;
    if (consumer !== undefined) {
      // Leaving the group hands the partitions over at once instead of after the session timeout.
      await closeClient(consumer).catch((error: unknown) => this.#report('leave', error));
    }
    await this.#pool?.close().catch(() => undefined);
  }
}
