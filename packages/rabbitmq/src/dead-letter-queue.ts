import { createHash } from 'node:crypto';
import type { Channel, GetMessage, Message } from 'amqplib';
import {
  ErrorCodes,
  HeraldError,
  partitionFor,
  replayedRecord,
  type ReplayOptions,
  type DeadLetter,
  type DeadLetterFailure,
  type DeadLetterQuery,
  type DeadLetterQueue,
} from '@herald/core';
import { attemptOf, HeraldHeaders, messageToRecord, numberHeader, stringHeader } from './amqp-binding.ts';
import type { ConfirmPublisher } from './confirm-publisher.ts';
import type { AmqpConnection } from './connection.ts';
import { toHeraldError } from './rabbitmq-errors.ts';
import type { Topology } from './topology.ts';

/** What the dead-letter queue works with, from the transport. */
export interface DeadLetterContext {
  readonly connection: AmqpConnection;
  readonly publisher: ConfirmPublisher;
  readonly topology: Topology;
  /** The groups `list()` without a group looks at: those this transport subscribed or dead-lettered for. */
  readonly groups: () => Iterable<string>;
}

const DEFAULT_LIST_LIMIT = 100;

/** The group part of a dead letter's id (`<group>:<uuid>`). */
export function groupOfId(id: string): string | undefined {
  const at = id.indexOf(':');
  return at > 0 ? id.slice(0, at) : undefined;
}

function failureOf(message: Message): DeadLetterFailure {
  const stored = stringHeader(message, HeraldHeaders.failure);
  if (stored !== undefined) {
    try {
      return JSON.parse(stored) as DeadLetterFailure;
    } catch {
      // Fall through: describe it as the broker's.
    }
  }
  // Dead-lettered by RabbitMQ itself (a delivery limit or length limit set by policy, a plain client's reject).
  const reason = stringHeader(message, 'x-first-death-reason') ?? 'unknown';
  return {
    error: { name: 'RabbitMqDeadLetter', message: `RabbitMQ dead-lettered the message (${reason})` },
    attempts: attemptOf(message),
    reason: `broker-${reason}`,
  };
}

function deathTime(message: Message): string | undefined {
  const deaths: unknown = message.properties.headers?.['x-death'];
  if (!Array.isArray(deaths) || deaths.length === 0) return undefined;
  const time = (deaths[0] as { time?: { value?: unknown } }).time?.value;
  return typeof time === 'number' ? new Date(time * 1000).toISOString() : undefined;
}

/** Reads a message of a group's dead-letter queue as a {@link DeadLetter}. */
export function toDeadLetter(message: Message, group: string, topology: Topology): DeadLetter {
  const origin = topology.parsePartitionQueue(stringHeader(message, 'x-first-death-queue') ?? '');
  const topic = stringHeader(message, HeraldHeaders.topic) ?? origin?.topic ?? '';
  const record = messageToRecord(topic, message);
  const id =
    stringHeader(message, HeraldHeaders.deadLetterId) ??
    `${group}:${record.attributes.id ?? createHash('sha256').update(message.content).digest('hex').slice(0, 32)}`;
  return {
    id,
    group: stringHeader(message, HeraldHeaders.group) ?? group,
    record,
    partition: numberHeader(message, HeraldHeaders.partition) ?? origin?.partition ?? 0,
    offset: stringHeader(message, HeraldHeaders.offset) ?? '0',
    failure: failureOf(message),
    deadLetteredAt:
      stringHeader(message, HeraldHeaders.deadLetteredAt) ?? deathTime(message) ?? new Date(0).toISOString(),
  };
}

type Visit = (deadLetter: DeadLetter, message: GetMessage, channel: Channel) => Promise<boolean> | boolean;

/**
 * Each group's dead letters live in its own durable queue, `<group>:dead-letter`. A queue is not a table: the
 * operations read it from the head with `basic.get` on a channel of their own, settle the one they act on, and
 * close the channel, which returns everything else, in order. Two operators reading at once each see only the
 * messages the other is not holding; nothing is lost. A replay sends the record, as attempt 1, straight to the
 * partition queue of the group that failed (through the default exchange), so no other group sees it again.
 */
export class RabbitMqDeadLetters implements DeadLetterQueue {
  readonly #context: DeadLetterContext;

  constructor(context: DeadLetterContext) {
    this.#context = context;
  }

  async list(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    const groups = query.group !== undefined ? [query.group] : [...new Set(this.#context.groups())].sort();
    const found: DeadLetter[] = [];
    for (const group of groups) {
      if (found.length >= limit) break;
      await this.#scan(group, (deadLetter) => {
        if (query.topic === undefined || deadLetter.record.topic === query.topic) found.push(deadLetter);
        return found.length >= limit;
      });
    }
    return found;
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const group = groupOfId(id);
    if (group === undefined) return undefined;
    let found: DeadLetter | undefined;
    await this.#scan(group, (deadLetter) => {
      if (deadLetter.id !== id) return false;
      found = deadLetter;
      return true;
    });
    return found;
  }

  async replay(id: string, options: ReplayOptions = {}): Promise<void> {
    const group = groupOfId(id);
    let replayed = false;
    if (group !== undefined) {
      const { topology, publisher } = this.#context;
      await this.#scan(group, async (deadLetter, message, channel) => {
        if (deadLetter.id !== id) return false;
        const record = replayedRecord(deadLetter.record, options);
        const partition =
          record.key === undefined ? deadLetter.partition : partitionFor(record.key, topology.partitions);
        const queue = topology.partitionQueue(record.topic, deadLetter.group, partition);
        await this.#assertQueueExists(queue);
        await publisher.sendToQueue(record, queue);
        channel.ack(message);
        replayed = true;
        return true;
      });
    }
    if (!replayed) throw new HeraldError(ErrorCodes.DEAD_LETTER_NOT_FOUND, `No dead letter with id ${id}`);
  }

  async discard(id: string): Promise<void> {
    const group = groupOfId(id);
    if (group === undefined) return;
    await this.#scan(group, (deadLetter, message, channel) => {
      if (deadLetter.id !== id) return false;
      channel.ack(message);
      return true;
    });
  }

  async #assertQueueExists(queue: string): Promise<void> {
    const channel = await this.#context.connection.channel();
    try {
      await channel.checkQueue(queue);
    } catch (error) {
      throw toHeraldError(error, `replaying to ${queue}`);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Reads the group's dead-letter queue from the head until `visit` returns true or the queue is exhausted. */
  async #scan(group: string, visit: Visit): Promise<void> {
    const { connection, topology } = this.#context;
    const queue = topology.deadLetterQueue(group);
    const channel = await connection.channel();
    try {
      try {
        await channel.checkQueue(queue);
      } catch {
        return; // No such queue: the group never had dead letters.
      }
      for (;;) {
        const message = await channel.get(queue, { noAck: false });
        if (message === false) return;
        if (await visit(toDeadLetter(message, group, topology), message, channel)) return;
      }
    } catch (error) {
      throw toHeraldError(error, `reading ${queue}`);
    } finally {
      // Returns every message read and not settled to the queue.
      await channel.close().catch(() => undefined);
    }
  }
}
