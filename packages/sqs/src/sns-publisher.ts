import { PublishBatchCommand, type PublishBatchRequestEntry, type SNSClient } from '@aws-sdk/client-sns';
import { ErrorCodes, HeraldError, type PublishReceipt, type TransportRecord } from '@herald/core';
import { encodeRecord, messageSize, type EncodedMessage } from './message-binding.ts';
import { deduplicationId, derivedDeduplicationId, messageGroupId } from './names.ts';
import { toHeraldError } from './sqs-errors.ts';
import type { Topology } from './topology.ts';

/** SNS takes at most 10 entries per `PublishBatch`, and 256 KiB per message and per batch. */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_SNS_PAYLOAD = 262_144;

/** The FIFO fields of a record: its key's message group and its event id as deduplication id. */
export function fifoFields(record: TransportRecord): {
  MessageGroupId: string;
  MessageDeduplicationId: string;
} {
  const id = record.attributes.id;
  const dedup =
    id !== undefined && id !== ''
      ? deduplicationId(id)
      : derivedDeduplicationId(
          record.topic,
          JSON.stringify(record.attributes),
          Buffer.from(record.data).toString('base64'),
        );
  // A record without a key has no order to keep: its own group lets it run beside everything else.
  return {
    MessageGroupId: record.key === undefined ? `unkeyed:${dedup}` : messageGroupId(record.key),
    MessageDeduplicationId: dedup,
  };
}

/** Splits encoded messages into batches SNS accepts, in order. */
export function planBatches(messages: readonly EncodedMessage[]): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  messages.forEach((message, i) => {
    const size = messageSize(message);
    if (current.length === MAX_BATCH_ENTRIES || (current.length > 0 && bytes + size > MAX_SNS_PAYLOAD)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Publishes records to their topics' SNS topics with `PublishBatch`: the records of one topic go in order, ten
 * (or 256 KiB) per request, one request after the other, so same-key records keep their order; different topics
 * go in parallel. On a FIFO topic each record carries `MessageGroupId` = its key and `MessageDeduplicationId` =
 * its event id, so a publish retried within five minutes (an outbox relay that lost its answer) is delivered once.
 */
export class SnsPublisher {
  readonly #sns: SNSClient;
  readonly #topology: Topology;
  readonly #fifo: boolean;

  constructor(sns: SNSClient, topology: Topology, fifo: boolean) {
    this.#sns = sns;
    this.#topology = topology;
    this.#fifo = fifo;
  }

  async publish(records: readonly TransportRecord[]): Promise<PublishReceipt[]> {
    const receipts: PublishReceipt[] = new Array<PublishReceipt>(records.length);
    const byTopic = new Map<string, number[]>();
    records.forEach((record, i) => {
      const list = byTopic.get(record.topic);
      if (list === undefined) byTopic.set(record.topic, [i]);
      else list.push(i);
    });
    await Promise.all(
      [...byTopic].map(async ([topic, indexes]) => {
        const topicArn = await this.#topology.topicArn(topic);
        const encoded = indexes.map((i) => encodeRecord(records[i]!));
        encoded.forEach((message, j) => {
          if (messageSize(message) > MAX_SNS_PAYLOAD) {
            throw new HeraldError(
              ErrorCodes.TRANSPORT,
              `Event ${records[indexes[j]!]!.attributes.id ?? ''} on "${topic}" is ${messageSize(message)} bytes; ` +
                `SNS takes at most ${MAX_SNS_PAYLOAD} (data and attributes together)`,
              { permanent: true, details: { size: messageSize(message), limit: MAX_SNS_PAYLOAD } },
            );
          }
        });
        for (const batch of planBatches(encoded)) {
          await this.#publishBatch(
            topic,
            topicArn,
            batch.map((j) => ({ index: indexes[j]!, message: encoded[j]! })),
            records,
            receipts,
          );
        }
      }),
    );
    return receipts;
  }

  async #publishBatch(
    topic: string,
    topicArn: string,
    batch: { index: number; message: EncodedMessage }[],
    records: readonly TransportRecord[],
    receipts: PublishReceipt[],
  ): Promise<void> {
    const entries: PublishBatchRequestEntry[] = batch.map(({ index, message }, n) => ({
      Id: String(n),
      Message: message.body,
      MessageAttributes: message.attributes,
      ...(this.#fifo ? fifoFields(records[index]!) : {}),
    }));
    let answer;
    try {
      answer = await this.#sns.send(
        new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: entries }),
      );
    } catch (error) {
      throw toHeraldError(error, `publishing to "${topic}"`);
    }
    const failed = answer.Failed ?? [];
    if (failed.length > 0) {
      const first = failed[0]!;
      throw new HeraldError(
        ErrorCodes.TRANSPORT,
        `SNS refused ${failed.length} of ${entries.length} events on "${topic}": ${first.Code ?? ''} ${first.Message ?? ''}`,
        { permanent: failed.every((f) => f.SenderFault === true), details: { failed } },
      );
    }
    for (const done of answer.Successful ?? []) {
      const entry = batch[Number(done.Id)];
      if (entry === undefined) continue;
      receipts[entry.index] = { topic, partition: 0, offset: done.SequenceNumber ?? '0' };
    }
    for (const { index } of batch) receipts[index] ??= { topic, partition: 0, offset: '0' };
  }
}
