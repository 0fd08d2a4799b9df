import type { Producer } from '@platformatic/kafka';
import type { KafkaHeaders } from './cloudevents-binding.ts';
import { closeClient } from './kafka-context.ts';
import { closedError, transportError } from './kafka-errors.ts';

/** A record ready for the wire, its partition already chosen. */
export interface OutgoingRecord {
  readonly topic: string;
  readonly partition: number;
  readonly key: Buffer | undefined;
  readonly value: Buffer;
  readonly headers: KafkaHeaders;
}

interface Pending {
  readonly records: readonly OutgoingRecord[];
  readonly bytes: number;
  readonly resolve: (offsets: bigint[]) => void;
  readonly reject: (error: unknown) => void;
}

function sizeOf(record: OutgoingRecord): number {
  let size = 64 + record.value.length + (record.key?.length ?? 0);
  for (const [name, value] of record.headers) size += name.length + value.length + 2;
  return size;
}

/**
 * One idempotent producer per transport, with at most one produce request in flight. Callers that arrive
 * while a request is in flight are coalesced into the next one (up to `maxBatchBytes`), so concurrency turns
 * into batching instead of parallel requests.
 *
 * Why one at a time: `@platformatic/kafka` 1.x assigns an idempotent batch its sequence number when the request
 * is built and advances it only when the response arrives, so two concurrent sends to one partition carry the
 * same sequence and the broker acknowledges the second as a duplicate of the first: it is silently dropped
 * (measured here: 20 concurrent sends, 20 acks, one record stored; platformatic/kafka#326). Serialising the
 * sends keeps the idempotent producer's guarantee: each record stored once, per-partition order kept.
 *
 * After a failed request the producer is replaced (a new producer id), so a sequence left out of step by the
 * failure cannot poison later sends.
 */
export class SendQueue {
  readonly #createProducer: () => Producer;
  readonly #maxBatchBytes: number;
  readonly #queue: Pending[] = [];
  #producer: Producer | undefined;
  #sending = false;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(createProducer: () => Producer, maxBatchBytes: number) {
    this.#createProducer = createProducer;
    this.#maxBatchBytes = maxBatchBytes;
  }

  /** Resolves with each record's offset once every record is acknowledged by all in-sync replicas. */
  send(records: readonly OutgoingRecord[]): Promise<bigint[]> {
    if (this.#closed) return Promise.reject(closedError('publish'));
    if (records.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      let bytes = 0;
      for (const record of records) bytes += sizeOf(record);
      this.#queue.push({ records, bytes, resolve, reject });
      if (!this.#sending) void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    this.#sending = true;
    for (;;) {
      // Let every caller that is one promise chain away enqueue first (a nextTick runs once the microtask
      // queue is empty): callers whose previous send just resolved, and publishes started in the same tick.
      // Without it a steady stream of concurrent publishes ping-pongs between 1-record and full requests.
      await new Promise<void>((resolve) => process.nextTick(resolve));
      if (this.#queue.length === 0) break;
      const batch: Pending[] = [this.#queue.shift()!];
      let bytes = batch[0]!.bytes;
      while (this.#queue.length > 0 && bytes + this.#queue[0]!.bytes <= this.#maxBatchBytes) {
        const next = this.#queue.shift()!;
        bytes += next.bytes;
        batch.push(next);
      }
      await this.#sendBatch(batch);
    }
    this.#sending = false;
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }

  async #sendBatch(batch: Pending[]): Promise<void> {
    const messages = batch.flatMap((pending) => pending.records);
    let bases: Map<string, bigint>;
    try {
      this.#producer ??= this.#createProducer();
      const result = await this.#producer.send({
        messages: messages.map((r) => ({
          topic: r.topic,
          partition: r.partition,
          ...(r.key === undefined ? {} : { key: r.key }),
          value: r.value,
          headers: r.headers,
        })),
      });
      bases = new Map((result.offsets ?? []).map((o) => [`${o.topic}\u0000${o.partition}`, o.offset]));
    } catch (error) {
      const failed = this.#producer;
      this.#producer = undefined;
      if (failed !== undefined) void closeClient(failed).catch(() => undefined);
      const wrapped = transportError('produce', error);
      for (const pending of batch) pending.reject(wrapped);
      return;
    }
    // A request holds one batch per partition, in message order: offsets count up from the batch's base.
    const next = new Map<string, bigint>();
    for (const pending of batch) {
      const offsets: bigint[] = [];
      for (const record of pending.records) {
        const key = `${record.topic}\u0000${record.partition}`;
        const offset = next.get(key) ?? bases.get(key);
        if (offset === undefined) {
          pending.reject(transportError('produce', new Error(`no offset acknowledged for ${key}`)));
          offsets.length = 0;
          break;
        }
        next.set(key, offset + 1n);
        offsets.push(offset);
      }
      if (offsets.length === pending.records.length) pending.resolve(offsets);
    }
  }

  /** Waits for queued sends, then closes the producer. Later sends reject with `HERALD_CLOSED`. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sending) await new Promise<void>((resolve) => this.#idle.push(resolve));
    const producer = this.#producer;
    this.#producer = undefined;
    if (producer !== undefined) await closeClient(producer);
  }
}
