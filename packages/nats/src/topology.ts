import { configError, type SeekTarget } from '@herald/core';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { apiCode, JsCodes, mapErrors } from './nats-errors.ts';
import type { Names } from './names.ts';
import type { ResolvedNatsOptions } from './nats-options.ts';

/** Where a group's consumers start when the group is new. */
type StartFrom = 'earliest' | 'latest';

/**
 * Creates and finds the transport's streams and consumers. Everything is created on first use and idempotently,
 * so any process can be the first; a topic keeps the partition count it was created with, read back from its
 * stream's subjects.
 */
export class Topology {
  readonly #jsm: JetStreamManager;
  readonly #names: Names;
  readonly #options: ResolvedNatsOptions;
  readonly #topics = new Map<string, Promise<number>>();
  readonly #internal = new Map<string, Promise<void>>();

  constructor(jsm: JetStreamManager, names: Names, options: ResolvedNatsOptions) {
    this.#jsm = jsm;
    this.#names = names;
    this.#options = options;
  }

  /** Ensures the topic's stream exists; resolves to its partition count. Cached per process. */
  partitions(topic: string): Promise<number> {
    let pending = this.#topics.get(topic);
    if (pending === undefined) {
      pending = this.#ensureTopic(topic);
      this.#topics.set(topic, pending);
      pending.catch(() => this.#topics.delete(topic));
    }
    return pending;
  }

  /** Forgets what is known of a topic (its stream was deleted under us). */
  forgetTopic(topic: string): void {
    this.#topics.delete(topic);
  }

  async #ensureTopic(topic: string): Promise<number> {
    const name = this.#names.topicStream(topic);
    const config: Partial<StreamConfig> & { name: string } = {
      name,
      subjects: this.#names.topicSubjects(topic, this.#options.partitions),
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: this.#options.replicas,
      max_age: nanos(this.#options.maxAgeMs),
      description: `Herald topic "${topic}"`,
    };
    const subjects = await this.#ensureStream(config);
    const partitions = this.#names.partitionsFromSubjects(topic, subjects);
    if (partitions === undefined) {
      throw configError(
        'topic',
        `a topic whose stream "${name}" has the subjects ${topic}.0 … ${topic}.<n-1>`,
        subjects,
      );
    }
    return partitions;
  }

  /** Creates the stream unless it exists; resolves to its subjects. */
  async #ensureStream(config: Partial<StreamConfig> & { name: string }): Promise<string[]> {
    return mapErrors(`ensuring stream ${config.name}`, async () => {
      try {
        return (await this.#jsm.streams.info(config.name)).config.subjects ?? [];
      } catch (error) {
        if (apiCode(error) !== JsCodes.StreamNotFound) throw error;
      }
      try {
        return (await this.#jsm.streams.add(config)).config.subjects ?? [];
      } catch (error) {
        // Another process created it first (with its own options): use theirs.
        if (apiCode(error) !== JsCodes.StreamNameInUse) throw error;
        return (await this.#jsm.streams.info(config.name)).config.subjects ?? [];
      }
    });
  }

  #internalStream(key: string, config: Partial<StreamConfig> & { name: string }): Promise<void> {
    let pending = this.#internal.get(key);
    if (pending === undefined) {
      pending = this.#ensureStream(config).then(() => undefined);
      this.#internal.set(key, pending);
      pending.catch(() => this.#internal.delete(key));
    }
    return pending;
  }

  /** The group-state stream: one message per subject (claims, parks), compare-and-set by subject sequence. */
  groupStream(): Promise<void> {
    return this.#internalStream('groups', {
      name: this.#names.groupStream,
      subjects: [this.#names.groupSubjects],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_msgs_per_subject: 1,
      discard: DiscardPolicy.Old,
      num_replicas: this.#options.replicas,
      allow_direct: true,
      description: 'Herald consumer-group state: partition claims and parked keys',
    });
  }

  /** The dead-letter stream, kept until operators replay or discard. */
  deadLetterStream(): Promise<void> {
    return this.#internalStream('dead-letters', {
      name: this.#names.deadLetterStream,
      subjects: [this.#names.deadLetterSubjects],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: this.#options.replicas,
      allow_direct: true,
      description: 'Herald dead letters of every consumer group',
    });
  }

  /** The replay stream: a work queue, each replay consumed once by its group's partition owner. */
  replayStream(): Promise<void> {
    return this.#internalStream('replays', {
      name: this.#names.replayStream,
      subjects: [`${this.#names.prefix}.replays.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Workqueue,
      discard: DiscardPolicy.Old,
      num_replicas: this.#options.replicas,
      description: 'Herald dead letters replayed to the one group that failed them',
    });
  }

  #consumerConfig(name: string, filter: string, start: SeekTarget): Partial<ConsumerConfig> {
    const base: Partial<ConsumerConfig> = {
      durable_name: name,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(this.#options.ackWaitMs),
      max_ack_pending: this.#options.maxAckPending,
      max_deliver: -1,
      replay_policy: ReplayPolicy.Instant,
    };
    if (start === 'earliest') return { ...base, deliver_policy: DeliverPolicy.All };
    if (start === 'latest') return { ...base, deliver_policy: DeliverPolicy.New };
    if ('offset' in start) {
      const seq = Number(start.offset);
      if (!Number.isSafeInteger(seq) || seq < 1) throw configError('offset', 'a stream sequence >= 1', start);
      return { ...base, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: seq };
    }
    return { ...base, deliver_policy: DeliverPolicy.StartTime, opt_start_time: start.time.toISOString() };
  }

  /** Creates a durable consumer unless it exists; brings its ack wait and max ack pending to this transport's. */
  async #ensureConsumer(
    stream: string,
    config: Partial<ConsumerConfig> & { durable_name: string },
  ): Promise<void> {
    const name = config.durable_name;
    await mapErrors(`ensuring consumer ${stream}/${name}`, async () => {
      try {
        const info = await this.#jsm.consumers.info(stream, name);
        if (
          info.config.ack_wait !== config.ack_wait ||
          info.config.max_ack_pending !== config.max_ack_pending
        ) {
          await this.#jsm.consumers.update(stream, name, {
            ack_wait: config.ack_wait!,
            max_ack_pending: config.max_ack_pending!,
          });
        }
        return;
      } catch (error) {
        if (apiCode(error) !== JsCodes.ConsumerNotFound) throw error;
      }
      try {
        await this.#jsm.consumers.add(stream, config);
      } catch (error) {
        const code = apiCode(error);
        if (code !== JsCodes.ConsumerExists && code !== JsCodes.ConsumerNameExists) throw error;
      }
    });
  }

  /**
   * Ensures a group's durable consumers on a topic: one per partition on the topic stream, and one per partition
   * on the replay stream. A new group starts at `startFrom`.
   */
  async groupConsumers(group: string, topic: string, startFrom: StartFrom): Promise<number> {
    const partitions = await this.partitions(topic);
    await this.replayStream();
    const stream = this.#names.topicStream(topic);
    const work: Promise<void>[] = [];
    for (let p = 0; p < partitions; p++) {
      const main = this.#consumerConfig(
        this.#names.partitionConsumer(group, p),
        this.#names.partitionSubject(topic, p),
        startFrom,
      );
      work.push(this.#ensureConsumer(stream, main as Partial<ConsumerConfig> & { durable_name: string }));
      const replay = this.#consumerConfig(
        this.#names.replayConsumer(group, topic, p),
        this.#names.replaySubject(group, topic, p),
        'earliest',
      );
      work.push(
        this.#ensureConsumer(
          this.#names.replayStream,
          replay as Partial<ConsumerConfig> & { durable_name: string },
        ),
      );
    }
    await Promise.all(work);
    return partitions;
  }

  /**
   * Moves a group's position on a topic: its partition consumers are deleted and created again starting at
   * `target` (JetStream cannot move a durable consumer), and the group's parked keys on the topic are
   * forgotten (what they waited for is delivered again from the new position, or skipped).
   */
  async seek(group: string, topic: string, target: SeekTarget): Promise<void> {
    const partitions = await this.partitions(topic);
    const stream = this.#names.topicStream(topic);
    await mapErrors(`seeking group ${group} on ${topic}`, async () => {
      for (let p = 0; p < partitions; p++) {
        const config = this.#consumerConfig(
          this.#names.partitionConsumer(group, p),
          this.#names.partitionSubject(topic, p),
          target,
        );
        try {
          await this.#jsm.consumers.delete(stream, config.durable_name!);
        } catch (error) {
          if (apiCode(error) !== JsCodes.ConsumerNotFound) throw error;
        }
        await this.#jsm.consumers.add(stream, config);
      }
      await this.groupStream();
      await this.#jsm.streams.purge(this.#names.groupStream, {
        filter: this.#names.topicParksFilter(group, topic),
      });
    });
  }
}
