import {
  FetchIsolationLevels,
  IS_CONTROL,
  type ClusterMetadata,
  type ConnectionPool,
  type Consumer,
  type FetchOptions,
  type KafkaRecord,
} from '@platformatic/kafka';
import type { KafkaContext } from './kafka-context.ts';
import { KafkaErrorCodes, transportError } from './kafka-errors.ts';
import { partitionKey, type PartitionState } from './kafka-partition.ts';

type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;
type FetchResponsePartition = FetchResponse['responses'][number]['partitions'][number];
type FetchRequestTopic = FetchOptions<Buffer, Buffer, Buffer, Buffer>['topics'][number];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a {@link PartitionFetcher} reads for, from its subscription. */
export interface FetcherHost {
  readonly ctx: KafkaContext;
  readonly consumer: Consumer;
  /** The fetcher's own connections, so long-poll fetches never delay heartbeats or commits. */
  readonly pool: ConnectionPool;
  /** The assigned partitions, by {@link partitionKey}. */
  readonly states: ReadonlyMap<string, PartitionState>;
  /** Whether to fetch `state` now (not revoked, not held back). */
  fetchable(state: PartitionState): boolean;
  /** Takes the record at `offset` of `state`; awaiting it is the back-pressure on fetching. */
  onRecord(state: PartitionState, offset: bigint, record: KafkaRecord): Promise<void>;
  stopping(): boolean;
  report(scope: string, error: unknown): void;
}

/**
 * The fetch loop of one subscription: fetches its fetchable partitions with explicit offsets from each leader
 * (read-committed), hands every record past a partition's cursor to the host in offset order, moves a cursor
 * that fell out of the log (retention) to the log's start, and releases the event partitions of a retry
 * partition once that has been read up to where it ended at assignment. Failures back off, up to 2 s.
 */
export class PartitionFetcher {
  readonly #host: FetcherHost;
  #wakeLoop: (() => void) | undefined;

  constructor(host: FetcherHost) {
    this.#host = host;
  }

  /** Ends an idle wait at once (new partitions, a release, or shutdown). */
  wake(): void {
    const wake = this.#wakeLoop;
    this.#wakeLoop = undefined;
    wake?.();
  }

  /** Runs until the host is stopping. */
  async run(): Promise<void> {
    let failures = 0;
    while (!this.#host.stopping()) {
      const states = [...this.#host.states.values()].filter((s) => this.#host.fetchable(s));
      if (states.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#host.ctx.options.maxWaitMs);
          this.#wakeLoop = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      try {
        const consumer = this.#host.consumer;
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
        if (this.#host.stopping()) break;
        failures++;
        this.#host.report('fetch', transportError('fetch', error));
        this.#host.consumer.clearMetadata();
        await sleep(Math.min(2000, 50 * 2 ** failures));
      }
    }
  }

  async #fetchFrom(leader: number, states: PartitionState[], metadata: ClusterMetadata): Promise<void> {
    const o = this.#host.ctx.options;
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
      response = await this.#host.consumer.fetch({
        node: leader,
        topics: [...requests.values()],
        connectionPool: this.#host.pool,
        maxWaitTime: o.maxWaitMs,
        minBytes: 1,
        maxBytes: o.fetchMaxBytesPerPartition * Math.max(1, states.length),
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      });
    } catch (error) {
      if (this.#host.stopping()) return;
      const partial = (error as { response?: FetchResponse }).response;
      if (partial !== undefined && this.#resetOutOfRange(partial, topicNames, requested)) return;
      throw transportError('fetch', error);
    }
    for (const topicResponse of response.responses) {
      const topic = topicNames.get(topicResponse.topicId);
      if (topic === undefined) continue;
      for (const partition of topicResponse.partitions) {
        const state = this.#host.states.get(partitionKey(topic, partition.partitionIndex));
        if (state === undefined || state.revoked || requested.get(state) !== state.cursor) continue;
        await this.#consumePartition(state, partition);
        if (this.#host.stopping()) return;
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
        const state = this.#host.states.get(partitionKey(topic, partition.partitionIndex));
        if (state === undefined || requested.get(state) !== state.cursor) continue;
        this.#host.report(
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
          if (this.#host.stopping() || state.revoked) return;
          const offset = batch.firstOffset + BigInt(record.offsetDelta);
          if (offset < state.cursor) continue;
          state.cursor = offset + 1n;
          await this.#host.onRecord(state, offset, record);
        }
      }
      const next = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
      if (next > state.cursor) state.cursor = next;
    }
    if (state.kind === 'retry' && state.catchUpTo !== undefined) {
      const atEnd = (partition.records?.length ?? 0) === 0 && partition.highWatermark <= state.cursor;
      if (state.cursor >= state.catchUpTo || atEnd) {
        state.catchUpTo = undefined;
        for (const other of this.#host.states.values()) {
          if (other.kind === 'event' && other.partition === state.partition) other.waitingForRetry = false;
        }
      }
    }
  }
}
