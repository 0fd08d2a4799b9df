import { once } from 'node:events';
import amqp, { type ConfirmChannel, type Options } from 'amqplib';
import { nowUs } from '../clock.ts';
import type { ConsumerDriver, PeerClient, ProducerDriver } from '../driver.ts';
import { eventAttributes } from '../message.ts';
import { paddedData, stampOfPadded } from '../payload.ts';
import type { Placement, TrialSpec } from '../protocol.ts';
import type { Sink } from '../sink.ts';
import { RABBITMQ_URL } from './rabbitmq-config.ts';

/** Unacknowledged deliveries the raw consumer holds (Herald: 32 per partition × 8 partitions). */
export const AMQPLIB_PREFETCH = 256;
/** Unacknowledged deliveries per partition queue on the partitioned topology (Herald's default). */
export const AMQPLIB_PARTITION_PREFETCH = 32;

/** The partition queues of the topology (1: one queue per group). */
function partitionsOf(spec: TrialSpec): number {
  return Number(spec.resources.partitions ?? '1');
}

/** The routing key of event `seq`: events spread over the partitions as keys hash over Herald's. */
function routingKeyOf(spec: TrialSpec, seq: number): string {
  const partitions = partitionsOf(spec);
  return partitions === 1 ? spec.resources.routingKey! : `${spec.resources.routingKey!}.p${seq % partitions}`;
}

/** The AMQP binding's binary mode, as Herald writes it: `cloudEvents_*` headers, content type, message id. */
function options(seq: number): Options.Publish {
  const { datacontenttype, ...rest } = eventAttributes(seq);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(rest)) headers[`cloudEvents_${name}`] = value;
  return {
    persistent: true,
    headers,
    contentType: datacontenttype,
    messageId: rest.id,
    type: rest.type,
    timestamp: Math.floor(Date.now() / 1000),
  };
}

/**
 * Publishes persistent messages in order; resolves once the broker has confirmed every one. When the socket's
 * buffer is full it waits for `drain` before writing more, as any amqplib publisher must.
 */
async function publish(
  channel: ConfirmChannel,
  spec: TrialSpec,
  from: number,
  n: number,
  sentAt: number,
): Promise<void> {
  const confirms: Promise<void>[] = [];
  for (let seq = from; seq < from + n; seq++) {
    let writable = true;
    confirms.push(
      new Promise<void>((resolve, reject) => {
        writable = channel.publish(
          spec.resources.exchange!,
          routingKeyOf(spec, seq),
          paddedData(seq, sentAt, spec.payloadBytes),
          options(seq),
          (error: unknown) => (error ? reject(new Error('nacked by the broker')) : resolve()),
        );
      }),
    );
    if (!writable) await once(channel, 'drain');
  }
  await Promise.all(confirms);
}

async function producer(spec: TrialSpec): Promise<ProducerDriver> {
  const connection = await amqp.connect(RABBITMQ_URL);
  const channel = await connection.createConfirmChannel();
  return {
    publishBatch: (from, n) => publish(channel, spec, from, n, nowUs()),
    publishOne: (seq, sentAt) => publish(channel, spec, seq, 1, sentAt),
    async close() {
      await channel.close();
      await connection.close();
    },
  };
}

/**
 * `basic.consume` on the group's quorum queue with prefetch, a manual `ack` per message; on the partitioned
 * topology, one consumer per partition queue on one channel, each with its own prefetch.
 */
async function consumer(spec: TrialSpec, placement: Placement, sink: Sink): Promise<ConsumerDriver> {
  const connection = await amqp.connect(RABBITMQ_URL);
  const channel = await connection.createChannel();
  const partitions = partitionsOf(spec);
  // Per consumer (global false): each partition queue gets its own window, as Herald's do.
  await channel.prefetch(partitions === 1 ? AMQPLIB_PREFETCH : AMQPLIB_PARTITION_PREFETCH, false);
  const base = `${spec.resources.queuePrefix!}${placement.group}`;
  const queues = partitions === 1 ? [base] : Array.from({ length: partitions }, (_, p) => `${base}.p${p}`);
  const tags: string[] = [];
  for (const queue of queues) {
    const { consumerTag } = await channel.consume(
      queue,
      (message) => {
        if (message === null) return;
        sink.accept(stampOfPadded(message.content));
        channel.ack(message);
      },
      { noAck: false },
    );
    tags.push(consumerTag);
  }
  return {
    async close() {
      for (const tag of tags) await channel.cancel(tag);
      await channel.close();
      await connection.close();
    },
  };
}

export const amqplibClient: PeerClient = { producer, consumer };
