import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type BatchResultErrorEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Batcher } from './batcher.ts';

/**
 * The system attributes every receive asks for: the attempt is read from the receive count, the executor lane
 * from the FIFO message group, the delivery's offset from the sequence number (else the sent time).
 */
export const RECEIVE_SYSTEM_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'MessageGroupId',
  'SequenceNumber',
  'SentTimestamp',
] as const;

/** AWS caps a message's visibility at 12 hours from its receive. */
export const MAX_VISIBILITY_SECONDS = 43_200;

interface VisibilityChange {
  readonly receipt: string;
  readonly seconds: number;
}

/** A failed batch entry as an error whose `name` is AWS's code, so the error mapping reads it like any other. */
function entryError(failed: BatchResultErrorEntry): Error {
  return Object.assign(new Error(failed.Message ?? failed.Code ?? 'failed'), {
    name: failed.Code ?? 'Error',
    $fault: failed.SenderFault === true ? 'client' : 'server',
  });
}

function results(count: number, failed: BatchResultErrorEntry[] | undefined): (Error | undefined)[] {
  const out: (Error | undefined)[] = new Array<Error | undefined>(count).fill(undefined);
  for (const entry of failed ?? []) {
    const index = Number(entry.Id);
    if (Number.isInteger(index) && index >= 0 && index < count) out[index] = entryError(entry);
  }
  return out;
}

/**
 * Deletes messages and changes their visibility through batch requests, one {@link Batcher} per queue and
 * operation: acks of deliveries that finish together cost one `DeleteMessageBatch`, heartbeats and releases one
 * `ChangeMessageVisibilityBatch`.
 */
export class QueueOps {
  readonly #sqs: SQSClient;
  readonly #deletes = new Map<string, Batcher<string>>();
  readonly #visibility = new Map<string, Batcher<VisibilityChange>>();

  constructor(sqs: SQSClient) {
    this.#sqs = sqs;
  }

  /** Deletes a received message (its ack). */
  delete(queueUrl: string, receipt: string): Promise<void> {
    let batcher = this.#deletes.get(queueUrl);
    if (batcher === undefined) {
      batcher = new Batcher<string>(async (receipts) => {
        const answer = await this.#sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: receipts.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle })),
          }),
        );
        return results(receipts.length, answer.Failed);
      });
      this.#deletes.set(queueUrl, batcher);
    }
    return batcher.add(receipt);
  }

  /** Makes a received message visible again in `seconds` (0: at once), counted from now. */
  changeVisibility(queueUrl: string, receipt: string, seconds: number): Promise<void> {
    let batcher = this.#visibility.get(queueUrl);
    if (batcher === undefined) {
      batcher = new Batcher<VisibilityChange>(async (changes) => {
        const answer = await this.#sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: changes.map((change, i) => ({
              Id: String(i),
              ReceiptHandle: change.receipt,
              VisibilityTimeout: change.seconds,
            })),
          }),
        );
        return results(changes.length, answer.Failed);
      });
      this.#visibility.set(queueUrl, batcher);
    }
    return batcher.add({
      receipt,
      seconds: Math.max(0, Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(seconds))),
    });
  }

  /** Resolves when every operation requested so far has been answered. */
  async drain(): Promise<void> {
    await Promise.all([...this.#deletes.values(), ...this.#visibility.values()].map((b) => b.drain()));
  }
}

/**
 * Receives this process handed back without handling them (prefetched at shutdown, or queued behind a retried
 * message of their key), per SQS message id. SQS counts every receive in `ApproximateReceiveCount`; subtracting
 * these keeps `Delivery.attempt` to handling attempts when the message comes back to this process. Bounded: the
 * oldest entries go first.
 */
export class ReleasedReceives {
  readonly #counts = new Map<string, number>();
  readonly #max: number;

  constructor(max = 10_000) {
    this.#max = max;
  }

  add(messageId: string): void {
    const count = (this.#counts.get(messageId) ?? 0) + 1;
    this.#counts.delete(messageId);
    this.#counts.set(messageId, count);
    if (this.#counts.size > this.#max) this.#counts.delete(this.#counts.keys().next().value!);
  }

  count(messageId: string): number {
    return this.#counts.get(messageId) ?? 0;
  }

  forget(messageId: string): void {
    this.#counts.delete(messageId);
  }
}
