import type { DeadLetterFailure, TransportRecord } from '@herald/core';
import { encodeHeaders } from './cloudevents-binding.ts';
import { deadLetterControl, originKey, retryControl, type Origin } from './envelopes.ts';
import type { KafkaContext } from './kafka-context.ts';
import { laneOf, type ParkedEntry } from './parked-set.ts';

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Writes a group's records to its retry topic (same partition number as the origin, with due time and attempt
 * in headers) and to its dead-letter topic (with the failure). Each write resolves once the broker has it.
 */
export class RedeliveryWriter {
  readonly #ctx: KafkaContext;
  readonly #group: string;
  readonly #retryTopic: string;
  readonly #deadLetterTopic: string;

  constructor(ctx: KafkaContext, group: string) {
    this.#ctx = ctx;
    this.#group = group;
    this.#retryTopic = ctx.names.retry(group);
    this.#deadLetterTopic = ctx.names.deadLetter(group);
  }

  /** Appends `record` to the retry topic for `attempt` at `dueAt`; resolves to the entry to park. */
  async retry(origin: Origin, record: TransportRecord, attempt: number, dueAt: number): Promise<ParkedEntry> {
    const [retryOffset] = await this.#ctx.sender.send([
      {
        topic: this.#retryTopic,
        partition: origin.partition,
        key: record.key === undefined ? undefined : Buffer.from(record.key, 'utf8'),
        value: toBuffer(record.data),
        headers: encodeHeaders(
          record.attributes,
          retryControl({ group: this.#group, origin, attempt, dueAt }),
        ),
      },
    ]);
    return {
      origin,
      originKey: originKey(origin),
      lane: laneOf(origin.topic, record.key),
      record,
      attempt,
      dueAt,
      retryOffset: retryOffset!,
      readBack: false,
      inFlight: false,
    };
  }

  /** Appends `record` to the dead-letter topic with the failure and where it came from. */
  async deadLetter(origin: Origin, record: TransportRecord, failure: DeadLetterFailure): Promise<void> {
    await this.#ctx.sender.send([
      {
        topic: this.#deadLetterTopic,
        partition: 0,
        key: record.key === undefined ? undefined : Buffer.from(record.key, 'utf8'),
        value: toBuffer(record.data),
        headers: encodeHeaders(
          record.attributes,
          deadLetterControl({
            group: this.#group,
            origin,
            failure,
            deadLetteredAt: new Date().toISOString(),
          }),
        ),
      },
    ]);
  }
}
