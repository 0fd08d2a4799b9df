import type { Admin } from '@platformatic/kafka';
import { hasProtocolError, KafkaErrorCodes, transportError } from './kafka-errors.ts';

/** How Herald creates a topic it needs. */
export interface TopicSpec {
  readonly partitions: number;
  readonly configs?: Readonly<Record<string, string>>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates the topics Herald uses on first use and remembers their partition counts. Creation is tried first
 * (one round trip when the topic is new; `TOPIC_ALREADY_EXISTS` otherwise), then the count is read from the
 * metadata, so concurrent creators across processes agree.
 */
export class TopicAdmin {
  readonly #admin: Admin;
  readonly #replicationFactor: number;
  readonly #known = new Map<string, Promise<number>>();

  constructor(admin: Admin, replicationFactor: number) {
    this.#admin = admin;
    this.#replicationFactor = replicationFactor;
  }

  /** The topic's partition count, creating the topic with `spec` if it does not exist. */
  ensure(topic: string, spec: TopicSpec): Promise<number> {
    let known = this.#known.get(topic);
    if (known === undefined) {
      known = this.#create(topic, spec);
      this.#known.set(topic, known);
      known.catch(() => this.#known.delete(topic));
    }
    return known;
  }

  /** Like {@link ensure}, and grows an existing topic to at least `spec.partitions` partitions. */
  async ensureAtLeast(topic: string, spec: TopicSpec): Promise<number> {
    const count = await this.ensure(topic, spec);
    if (count >= spec.partitions) return count;
    const grown = (async () => {
      try {
        await this.#admin.createPartitions({ topics: [{ name: topic, count: spec.partitions }] });
      } catch (error) {
        // Another process may have grown it first; the metadata below tells.
        if (!hasProtocolError(error, 37 /* INVALID_PARTITIONS */)) throw transportError('grow topic', error);
      }
      return this.#awaitMetadata(topic);
    })();
    this.#known.set(topic, grown);
    grown.catch(() => this.#known.delete(topic));
    return grown;
  }

  /** The partition count of an existing topic, or `undefined` when it does not exist. */
  async existing(topic: string): Promise<number | undefined> {
    const known = this.#known.get(topic);
    if (known !== undefined) return known;
    let topics: string[];
    try {
      topics = await this.#admin.listTopics();
    } catch (error) {
      throw transportError('list topics', error);
    }
    if (!topics.includes(topic)) return undefined;
    const count = this.#awaitMetadata(topic);
    this.#known.set(topic, count);
    count.catch(() => this.#known.delete(topic));
    return count;
  }

  /** Every topic name on the cluster (internal ones excluded). */
  async list(): Promise<string[]> {
    try {
      return await this.#admin.listTopics();
    } catch (error) {
      throw transportError('list topics', error);
    }
  }

  async #create(topic: string, spec: TopicSpec): Promise<number> {
    try {
      await this.#admin.createTopics({
        topics: [topic],
        partitions: spec.partitions,
        replicas: this.#replicationFactor,
        configs: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })),
      });
    } catch (error) {
      if (!hasProtocolError(error, KafkaErrorCodes.TOPIC_ALREADY_EXISTS)) {
        throw transportError(`create topic "${topic}"`, error);
      }
    }
    return this.#awaitMetadata(topic);
  }

  /** Reads the partition count once every partition has a leader (a new topic takes a moment). */
  async #awaitMetadata(topic: string): Promise<number> {
    const deadline = Date.now() + 10_000;
    for (let wait = 10; ; wait = Math.min(wait * 2, 500)) {
      try {
        const metadata = await this.#admin.metadata({ topics: [topic], forceUpdate: true });
        const found = metadata.topics.get(topic);
        if (found !== undefined && found.partitions.every((p) => p.leader >= 0)) return found.partitionsCount;
      } catch (error) {
        if (Date.now() > deadline) throw transportError(`read metadata of topic "${topic}"`, error);
      }
      if (Date.now() > deadline) {
        throw transportError(`read metadata of topic "${topic}"`, new Error('no leader after 10 s'));
      }
      await sleep(wait);
    }
  }
}
