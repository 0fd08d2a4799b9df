import type { BaseOptions } from '@platformatic/kafka';
import type { ResolvedKafkaOptions } from './kafka-options.ts';
import type { SendQueue } from './send-queue.ts';
import type { TopicAdmin, TopicSpec } from './topic-admin.ts';
import type { TopicNames } from './topic-names.ts';

/** What a transport's subscriptions and dead-letter queue share: options, clients, topic names. */
export interface KafkaContext {
  readonly options: ResolvedKafkaOptions;
  readonly names: TopicNames;
  readonly topics: TopicAdmin;
  readonly sender: SendQueue;
  /** Options of a `@platformatic/kafka` client playing `role` (its client id says which). */
  clientOptions(role: string): BaseOptions & { requestTimeout: number; connectTimeout: number };
  /** Errors no caller can receive (background fetch, commit, heartbeat). */
  reportError(scope: string, error: unknown): void;
}

/**
 * Closes a `@platformatic/kafka` client with `force` (a consumer leaves its group even with streams open).
 * The promise overload of `close` takes no argument, so this goes through the callback one.
 */
export function closeClient(client: {
  close(force: boolean, callback: (error?: Error | null) => void): void;
}): Promise<void> {
  return new Promise((resolve, reject) => {
    client.close(true, (error) => (error ? reject(error) : resolve()));
  });
}

/** How Herald creates an event topic it publishes to or subscribes to first. */
export function eventTopicSpec(options: ResolvedKafkaOptions): TopicSpec {
  return { partitions: options.partitions };
}

/** A group's retry topic: as many partitions as the group's widest topic, so partition `p` maps to `p`. */
export function retryTopicSpec(partitions: number): TopicSpec {
  return { partitions, configs: { 'cleanup.policy': 'delete' } };
}

/** A group's dead-letter topic: one partition (one order for listing and resolution markers). */
export function deadLetterTopicSpec(options: ResolvedKafkaOptions): TopicSpec {
  return {
    partitions: 1,
    configs: { 'cleanup.policy': 'delete', 'retention.ms': String(options.deadLetterRetentionMs) },
  };
}
