import { configError } from '@herald/core';
import { MAX_TOPIC_LENGTH, TOPIC_CHARS } from './kafka-options.ts';

/**
 * Names of Herald's own topics for a consumer group: `<prefix>.<group>.retry` (records waiting for a delayed
 * redelivery to that group) and `<prefix>.<group>.dlq` (its dead letters). The fixed prefix and suffix make the
 * group recoverable from a dead-letter topic's name, whatever dots the group contains.
 */
export class TopicNames {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  retry(group: string): string {
    return `${this.#prefix}.${group}.retry`;
  }

  deadLetter(group: string): string {
    return `${this.#prefix}.${group}.dlq`;
  }

  /** The group whose dead-letter topic `topic` is, or `undefined` when it is not one. */
  groupOfDeadLetter(topic: string): string | undefined {
    const head = `${this.#prefix}.`;
    const tail = '.dlq';
    if (!topic.startsWith(head) || !topic.endsWith(tail) || topic.length <= head.length + tail.length) {
      return undefined;
    }
    return topic.slice(head.length, -tail.length);
  }

  /** Throws `HERALD_CONFIG` unless `group` makes legal topic names. */
  checkGroup(group: unknown): asserts group is string {
    if (typeof group !== 'string' || !TOPIC_CHARS.test(group)) {
      throw configError('group', 'a name of letters, digits, ".", "_" or "-"', group);
    }
    const longest = this.retry(group).length;
    if (longest > MAX_TOPIC_LENGTH) {
      throw configError(
        'group',
        `a name short enough for its topic "${this.retry(group)}" (at most ${MAX_TOPIC_LENGTH} characters)`,
        group,
      );
    }
  }
}

/** Throws `HERALD_CONFIG` unless `topic` is a legal Kafka topic name Herald may use. */
export function checkTopic(topic: unknown): asserts topic is string {
  if (
    typeof topic !== 'string' ||
    !TOPIC_CHARS.test(topic) ||
    topic.length > MAX_TOPIC_LENGTH ||
    topic === '.' ||
    topic === '..' ||
    topic.startsWith('__')
  ) {
    throw configError(
      'topic',
      `a Kafka topic name: letters, digits, ".", "_" or "-", at most ${MAX_TOPIC_LENGTH} characters, not starting with "__"`,
      topic,
    );
  }
}
