import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { ConfirmChannel } from 'amqplib';
import {
  ErrorCodes,
  HeraldError,
  partitionFor,
  type DeadLetterFailure,
  type PublishReceipt,
  type TransportRecord,
} from '@herald/core';
import { HeraldHeaders, recordToPublication, type AmqpPublication } from './amqp-binding.ts';
import type { AmqpConnection } from './connection.ts';
import { closedError, toHeraldError } from './rabbitmq-errors.ts';
import {
  declareDelayTier,
  declareTopic,
  delayTier,
  type DeclaredTopology,
  type Topology,
} from './topology.ts';

/** Where a dead-lettered record came from, stored with it. */
export interface DeadLetterOrigin {
  readonly group: string;
  readonly partition: number;
  readonly offset: string;
}

/** Headers are one AMQP table of at most 64 KiB: a long stack is cut to keep the failure well inside it. */
const MAX_STACK_CHARS = 16_000;
const MAX_RETRY_ERROR_CHARS = 1000;

interface OpenChannel {
  readonly channel: ConfirmChannel;
  readonly generation: number;
  /** Declarations made on this connection: topics and delay tiers. */
  readonly declarations: Map<string, Promise<void>>;
  sequence: number;
  closed: boolean;
}

/**
 * Publishes with publisher confirms on one confirm channel of the publishing connection: a publish resolves
 * once the broker has taken responsibility for every message (written to disk, for durable queues), and rejects
 * with `HERALD_TRANSPORT` if any is nacked, lost with the channel, or unconfirmed after the timeout. Honours
 * the socket's back-pressure (`drain`). Used for events, delayed redeliveries, dead letters and replays.
 */
export class ConfirmPublisher {
  readonly #connection: AmqpConnection;
  readonly #topology: Topology;
  readonly #declared: DeclaredTopology;
  readonly #timeoutMs: number;
  #current: OpenChannel | undefined;
  #opening: Promise<OpenChannel> | undefined;
  #roundRobin = 0;
  #closed = false;

  constructor(connection: AmqpConnection, topology: Topology, declared: DeclaredTopology, timeoutMs: number) {
    this.#connection = connection;
    this.#topology = topology;
    this.#declared = declared;
    this.#timeoutMs = timeoutMs;
  }

  /** The partition a record goes to: its key's, or the next one in turn when it has none. */
  partitionOf(record: TransportRecord): number {
    const partitions = this.#topology.partitions;
    if (record.key !== undefined) return partitionFor(record.key, partitions);
    this.#roundRobin = (this.#roundRobin + 1) % partitions;
    return this.#roundRobin;
  }

  /** Publishes records to their topics' exchanges, routed by partition. */
  async publish(records: readonly TransportRecord[]): Promise<PublishReceipt[]> {
    const open = await this.#channel();
    for (const topic of new Set(records.map((r) => r.topic))) {
      await this.#declare(open, `topic:${topic}`, () =>
        declareTopic(open.channel, this.#topology, topic, this.#declared),
      );
    }
    const sends = records.map((record) => {
      const partition = this.partitionOf(record);
      return {
        exchange: this.#topology.exchange(record.topic),
        routingKey: String(partition),
        publication: recordToPublication(record),
        receipt: { topic: record.topic, partition },
      };
    });
    const sequences = await this.#send(open, sends, 'publishing');
    return sends.map((s, i) => ({ ...s.receipt, offset: String(sequences[i]) }));
  }

  /**
   * Sends a copy of `record` back to one partition queue after `delayMs`, through the smallest delay tier not
   * shorter than the delay; with `delayMs <= 0`, straight to the queue.
   */
  async delay(
    record: TransportRecord,
    queue: string,
    attempt: number,
    delayMs: number,
    error: string,
  ): Promise<void> {
    const open = await this.#channel();
    const tier = delayTier(delayMs);
    const headers: Record<string, unknown> = {
      [HeraldHeaders.attempt]: attempt,
      [HeraldHeaders.retryError]: error.slice(0, MAX_RETRY_ERROR_CHARS),
    };
    // Only a delay longer than the longest tier comes back early and needs its due time (comparing clocks of
    // different machines for the others would only add skew).
    if (delayMs > tier) headers[HeraldHeaders.dueAt] = Date.now() + delayMs;
    const publication = recordToPublication(record, headers);
    if (delayMs <= 0) {
      await this.#send(open, [{ exchange: '', routingKey: queue, publication }], 'redelivering');
      return;
    }
    await this.#declare(open, `delay:${tier}`, () =>
      declareDelayTier(open.channel, this.#topology, tier, this.#declared),
    );
    await this.#send(
      open,
      [{ exchange: this.#topology.delayName(tier), routingKey: queue, publication }],
      'scheduling a redelivery',
    );
  }

  /** Sends a record straight to one queue (a replay to one group's partition), as attempt 1. */
  async sendToQueue(record: TransportRecord, queue: string): Promise<void> {
    const open = await this.#channel();
    await this.#send(
      open,
      [{ exchange: '', routingKey: queue, publication: recordToPublication(record) }],
      'replaying',
    );
  }

  /** Sends a record with its failure to the group's dead-letter queue. Resolves with the dead letter's id. */
  async deadLetter(
    record: TransportRecord,
    failure: DeadLetterFailure,
    origin: DeadLetterOrigin,
  ): Promise<string> {
    const open = await this.#channel();
    const id = `${origin.group}:${randomUUID()}`;
    const stack = failure.error.stack;
    const stored: DeadLetterFailure = {
      ...failure,
      error: {
        ...failure.error,
        ...(stack === undefined ? {} : { stack: stack.slice(0, MAX_STACK_CHARS) }),
      },
    };
    const publication = recordToPublication(record, {
      [HeraldHeaders.deadLetterId]: id,
      [HeraldHeaders.failure]: JSON.stringify(stored),
      [HeraldHeaders.group]: origin.group,
      [HeraldHeaders.topic]: record.topic,
      [HeraldHeaders.partition]: origin.partition,
      [HeraldHeaders.offset]: origin.offset,
      [HeraldHeaders.attempt]: failure.attempts,
      [HeraldHeaders.deadLetteredAt]: new Date().toISOString(),
    });
    await this.#send(
      open,
      [{ exchange: this.#topology.deadLetterExchange, routingKey: origin.group, publication }],
      'dead-lettering',
    );
    return id;
  }

  /** Waits for outstanding confirms, then closes the channel (idempotent). */
  async close(): Promise<void> {
    this.#closed = true;
    const open = this.#current ?? (await this.#opening?.catch(() => undefined));
    this.#current = undefined;
    if (open === undefined || open.closed) return;
    await open.channel.waitForConfirms().catch(() => undefined);
    await open.channel.close().catch(() => undefined);
  }

  async #channel(): Promise<OpenChannel> {
    if (this.#closed) throw closedError('publishing');
    const current = this.#current;
    if (current !== undefined && !current.closed && current.generation === this.#connection.generation) {
      return current;
    }
    // After the first connection, fail fast while reconnecting rather than hold callers for an unknown time.
    if (this.#connection.generation > 0 && !this.#connection.connected) {
      throw new HeraldError(ErrorCodes.TRANSPORT, 'RabbitMQ connection lost; reconnecting');
    }
    this.#opening ??= this.#openChannel().finally(() => (this.#opening = undefined));
    return this.#opening;
  }

  async #openChannel(): Promise<OpenChannel> {
    const channel = await this.#connection.confirmChannel();
    const open: OpenChannel = {
      channel,
      generation: this.#connection.generation,
      declarations: new Map(),
      sequence: 0,
      closed: false,
    };
    channel.on('close', () => (open.closed = true));
    this.#current = open;
    return open;
  }

  async #declare(open: OpenChannel, key: string, declare: () => Promise<void>): Promise<void> {
    let declaring = open.declarations.get(key);
    if (declaring === undefined) {
      declaring = declare();
      open.declarations.set(key, declaring);
      declaring.catch(() => open.declarations.delete(key));
    }
    try {
      await declaring;
    } catch (error) {
      throw toHeraldError(error, `declaring ${key}`);
    }
  }

  /** Publishes in order on the channel; resolves with each message's sequence number once all are confirmed. */
  async #send(
    open: OpenChannel,
    sends: readonly { exchange: string; routingKey: string; publication: AmqpPublication }[],
    what: string,
  ): Promise<number[]> {
    const { channel } = open;
    const confirms: Promise<void>[] = [];
    const sequences: number[] = [];
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      if (open.closed) throw new Error('channel closed');
      for (const { exchange, routingKey, publication } of sends) {
        sequences.push(++open.sequence);
        let writable = true;
        confirms.push(
          new Promise<void>((resolve, reject) => {
            writable = channel.publish(
              exchange,
              routingKey,
              publication.content,
              publication.options,
              (error: unknown) => {
                if (error === null || error === undefined) resolve();
                else reject(error instanceof Error ? error : new Error('message nacked'));
              },
            );
          }),
        );
        // The socket's buffer is full: wait for it to drain (or for the channel to die) before writing more.
        if (!writable) {
          await Promise.race([
            once(channel, 'drain', { signal: abort.signal }),
            once(channel, 'close', { signal: abort.signal }).then(() => {
              throw new Error('channel closed');
            }),
          ]);
        }
      }
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`not confirmed within ${this.#timeoutMs} ms`)),
          this.#timeoutMs,
        );
      });
      await Promise.race([Promise.all(confirms), timeout]);
      return sequences;
    } catch (error) {
      for (const confirm of confirms) confirm.catch(() => undefined);
      if (this.#closed) throw closedError(what);
      throw toHeraldError(error, what);
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  }
}
