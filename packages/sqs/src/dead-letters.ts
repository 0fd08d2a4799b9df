import { randomUUID } from 'node:crypto';
import {
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  deadLetterNotFound,
  ErrorCodes,
  getDeadLetter,
  HeraldError,
  listDeadLetters,
  withDeadLetter,
  type DeadLetter,
  type DeadLetterFailure,
  type DeadLetterQuery,
  type DeadLetterQueue,
  type DeadLetterScan,
  type DeadLetterVisit,
  type ReplayOptions,
} from '@herald/core';
import {
  decodeMessage,
  encodeBody,
  encodeRecord,
  HERALD_ATTRIBUTE,
  heraldAttribute,
  readMeta,
  type DeadLetterMeta,
  type HeraldMeta,
} from './message-binding.ts';
import { derivedDeduplicationId, messageGroupId, type Names } from './names.ts';
import { RECEIVE_SYSTEM_ATTRIBUTES, type QueueOps } from './queue-ops.ts';
import { toHeraldError } from './sqs-errors.ts';
import type { ResolvedSqsOptions } from './sqs-options.ts';
import type { GroupQueues, QueueRef, Topology } from './topology.ts';

/** What the dead-letter queue works with, from the transport. */
export interface DeadLetterContext {
  readonly sqs: SQSClient;
  readonly topology: Topology;
  readonly names: Names;
  readonly options: ResolvedSqsOptions;
  readonly ops: QueueOps;
  /** Groups this transport subscribed or dead-lettered for (`list()` without a group looks at them too). */
  readonly groups: () => Iterable<string>;
}

/** Where a dead-lettered message was delivered from. */
export interface DeadLetterOrigin {
  readonly queues: GroupQueues;
  readonly partition: number;
  readonly offset: string;
}

/** How long a scan holds the messages it reads before handing them back, s. */
const SCAN_VISIBILITY_SECONDS = 30;
/** Stack traces stored with a dead letter are cut to this many characters (message attributes count in its size). */
const MAX_STACK = 8000;

function trimmed(failure: DeadLetterFailure): DeadLetterFailure {
  const { error } = failure;
  if (error.stack === undefined || error.stack.length <= MAX_STACK) return failure;
  return { ...failure, error: { ...error, stack: `${error.stack.slice(0, MAX_STACK)}\n    … (cut)` } };
}

/** The message's attributes with its `herald` metadata replaced. */
function withMeta(
  attributes: Record<string, MessageAttributeValue> | undefined,
  meta: HeraldMeta,
): Record<string, MessageAttributeValue> {
  return { ...attributes, [HERALD_ATTRIBUTE]: heraldAttribute(meta) };
}

/** What a scan hands a visit besides the dead letter: the SQS message, and a function that deletes it. */
type ScanHandle = [message: Message, consume: () => Promise<void>];

/**
 * Each group has one dead-letter queue, `<group>_dlq[.fifo]`, shared by its topics. Herald dead-letters a message
 * by sending a copy with its failure (error, stack, attempts, reason, group, origin) in the `herald` attribute,
 * then deleting the original; SQS's redrive policy moves there what was received `maxReceiveCount` times without
 * being settled (read back with reason `broker-max-receive-count`).
 *
 * SQS has no peek: operations read the queue with `ReceiveMessage` (making what they read invisible for a while),
 * act on the one they look for, and hand back everything else (`ChangeMessageVisibility` 0). Two operators
 * reading at once each see only what the other is not holding; nothing is lost. A replay sends the record, as a
 * new message, straight to the failing group's queue on its topic (not to the SNS topic), so no other group sees
 * it again.
 */
export class SqsDeadLetters implements DeadLetterQueue {
  readonly #context: DeadLetterContext;
  readonly #scanner: DeadLetterScan<ScanHandle>;

  constructor(context: DeadLetterContext) {
    this.#context = context;
    this.#scanner = { groups: () => this.#allGroups(), scan: (group, visit) => this.#scan(group, visit) };
  }

  /** Sends a copy of `message` with its failure to the group's dead-letter queue (the caller then deletes it). */
  async send(message: Message, failure: DeadLetterFailure, origin: DeadLetterOrigin): Promise<void> {
    const { sqs, options } = this.#context;
    const { queues } = origin;
    const id = `${queues.group}:${randomUUID()}`;
    const meta: HeraldMeta = { ...readMeta(message.MessageAttributes), topic: queues.topic };
    const deadLetter: DeadLetterMeta = {
      id,
      group: queues.group,
      topic: queues.topic,
      partition: origin.partition,
      offset: origin.offset,
      failure: trimmed(failure),
      at: new Date().toISOString(),
    };
    meta.deadLetter = deadLetter;
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.deadLetter.url,
          MessageBody: message.Body,
          MessageAttributes: withMeta(message.MessageAttributes, meta),
          // One message group per dead letter: they are read, replayed and discarded one by one, in any order.
          // Deduplicated on the original message, so dead-lettering it twice (a retry) stores it once.
          ...(options.fifo
            ? {
                MessageGroupId: messageGroupId(id),
                MessageDeduplicationId: derivedDeduplicationId(queues.queue.url, message.MessageId ?? id),
              }
            : {}),
        }),
      );
    } catch (error) {
      throw toHeraldError(error, `dead-lettering to "${queues.deadLetter.name}"`);
    }
  }

  async list(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    return listDeadLetters(this.#scanner, query);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    return getDeadLetter(this.#scanner, id);
  }

  async replay(id: string, replayOptions: ReplayOptions = {}): Promise<void> {
    const replayed = await withDeadLetter(this.#scanner, id, async (deadLetter, message, consume) => {
      await this.#replay(deadLetter, message, replayOptions);
      await consume();
    });
    if (!replayed) throw deadLetterNotFound(id);
  }

  async discard(id: string): Promise<void> {
    await withDeadLetter(this.#scanner, id, (_deadLetter, _message, consume) => consume());
  }

  async #replay(deadLetter: DeadLetter, message: Message, replayOptions: ReplayOptions): Promise<void> {
    const { data } = replayOptions;
    const { topology, sqs, options } = this.#context;
    const { topic } = deadLetter.record;
    if (topic === '') {
      throw new HeraldError(
        ErrorCodes.TRANSPORT,
        `Dead letter ${deadLetter.id} does not say which topic it came from (it was not published by Herald); ` +
          'it cannot be replayed',
        { permanent: true },
      );
    }
    const queues = await topology.groupQueues(topic, deadLetter.group);
    const meta: HeraldMeta = { ...readMeta(message.MessageAttributes), topic };
    delete meta.deadLetter;
    let body = message.Body;
    if (data !== undefined) {
      const encoded = encodeBody(data);
      body = encoded.body;
      if (encoded.encoding === undefined) delete meta.body;
      else meta.body = encoded.encoding;
    }
    const key = deadLetter.record.key;
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.queue.url,
          MessageBody: body,
          MessageAttributes: withMeta(withAttributes(message, deadLetter, replayOptions), meta),
          // Behind the key's later events (a replay is a new message), deduplicated per dead letter so a replay
          // retried after a lost answer arrives once.
          ...(options.fifo
            ? {
                MessageGroupId: messageGroupId(key ?? deadLetter.id),
                MessageDeduplicationId: derivedDeduplicationId(
                  'replay',
                  deadLetter.id,
                  message.MessageId ?? '',
                ),
              }
            : {}),
        }),
      );
    } catch (error) {
      throw toHeraldError(error, `replaying ${deadLetter.id} to "${queues.queue.name}"`);
    }
  }

  /** Groups to look at: this transport's, and every group with a dead-letter queue under the prefix. */
  async #allGroups(): Promise<string[]> {
    const groups = new Set(this.#context.groups());
    const { sqs, names } = this.#context;
    try {
      let next: string | undefined;
      do {
        const page = await sqs.send(
          new ListQueuesCommand({
            ...(names.prefix === '' ? {} : { QueueNamePrefix: names.prefix }),
            MaxResults: 1000,
            ...(next === undefined ? {} : { NextToken: next }),
          }),
        );
        for (const url of page.QueueUrls ?? []) {
          const group = names.groupOfDeadLetterQueue(url.slice(url.lastIndexOf('/') + 1));
          if (group !== undefined) groups.add(group);
        }
        next = page.NextToken;
      } while (next !== undefined);
    } catch {
      // Without sqs:ListQueues, the groups this transport knows are all it can list.
    }
    return [...groups].sort();
  }

  /** Reads a message of a group's dead-letter queue as a {@link DeadLetter}. */
  toDeadLetter(message: Message, group: string): DeadLetter {
    const meta = readMeta(message.MessageAttributes);
    const dead = meta?.deadLetter;
    const record = decodeMessage(dead?.topic ?? meta?.topic ?? '', message);
    const sent = Number(message.Attributes?.SentTimestamp ?? 0);
    return {
      id: dead?.id ?? `${group}:${message.MessageId ?? ''}`,
      group: dead?.group ?? group,
      record,
      partition: dead?.partition ?? 0,
      offset: dead?.offset ?? message.Attributes?.SequenceNumber ?? message.Attributes?.SentTimestamp ?? '0',
      failure: dead?.failure ?? {
        error: {
          name: 'SqsRedrive',
          message:
            `SQS moved the message to the dead-letter queue after ${this.#context.options.maxReceiveCount} ` +
            'receives without an ack (its consumer kept crashing or timing out)',
        },
        attempts: this.#context.options.maxReceiveCount,
        reason: 'broker-max-receive-count',
      },
      deadLetteredAt: dead?.at ?? new Date(Number.isFinite(sent) ? sent : 0).toISOString(),
    };
  }

  /** Reads the group's dead-letter queue until `visit` returns true or it is exhausted; hands back what it read. */
  async #scan(group: string, visit: DeadLetterVisit<ScanHandle>): Promise<void> {
    const { sqs, topology, ops } = this.#context;
    const queue: QueueRef | undefined = await topology.deadLetterQueue(group, false);
    if (queue === undefined) return; // No such queue: the group never had dead letters.
    const held: Message[] = [];
    const consumed = new Set<Message>();
    try {
      for (;;) {
        let messages: Message[];
        try {
          // Long polling (1 s) asks every SQS server; a short poll samples a few and can miss messages.
          const answer = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queue.url,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
              VisibilityTimeout: SCAN_VISIBILITY_SECONDS,
              MessageAttributeNames: ['All'],
              MessageSystemAttributeNames: [...RECEIVE_SYSTEM_ATTRIBUTES],
            }),
          );
          messages = answer.Messages ?? [];
        } catch (error) {
          throw toHeraldError(error, `reading "${queue.name}"`);
        }
        if (messages.length === 0) return;
        for (const message of messages) {
          held.push(message);
          const consume = async (): Promise<void> => {
            try {
              await ops.delete(queue.url, message.ReceiptHandle ?? '');
            } catch (error) {
              throw toHeraldError(error, `removing a dead letter from "${queue.name}"`);
            }
            consumed.add(message);
          };
          if (await visit(this.toDeadLetter(message, group), message, consume)) return;
        }
      }
    } finally {
      // Hand back what was read and not acted on, last first (so a FIFO group's order comes back as it was).
      const back = held.filter((m) => !consumed.has(m) && m.ReceiptHandle !== undefined).reverse();
      await Promise.allSettled(back.map((m) => ops.changeVisibility(queue.url, m.ReceiptHandle!, 0)));
    }
  }
}

/**
 * The message attributes of a replay: the dead letter's, with the CloudEvents attributes re-encoded when the
 * replay sets some (`ReplayOptions.attributes`).
 */
function withAttributes(
  message: Message,
  deadLetter: DeadLetter,
  options: ReplayOptions,
): Record<string, MessageAttributeValue> | undefined {
  if (options.attributes === undefined) return message.MessageAttributes;
  const { record } = deadLetter;
  const encoded = encodeRecord({ ...record, attributes: { ...record.attributes, ...options.attributes } });
  // The `herald` attribute is the dead letter's own, rebuilt by the caller.
  const { [HERALD_ATTRIBUTE]: _meta, ...attributes }: Record<string, MessageAttributeValue> = {
    ...message.MessageAttributes,
    ...encoded.attributes,
  };
  return attributes;
}
