import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { encodeEvent, type Delivery } from '@herald/core';
import { waitFor } from '@herald/core/testing';
import type { SqsDeadLetters } from '../src/dead-letters.ts';
import { GroupConsumer } from '../src/group-consumer.ts';
import { encodeRecord } from '../src/message-binding.ts';
import { QueueOps, ReleasedReceives } from '../src/queue-ops.ts';
import { resolveOptions } from '../src/sqs-options.ts';
import type { GroupQueues, Topology } from '../src/topology.ts';

const queues: GroupQueues = {
  topic: 'orders',
  group: 'payment',
  queue: { name: 'payment__orders.fifo', url: 'http://sqs/payment__orders.fifo', arn: 'arn:q' },
  deadLetter: { name: 'payment_dlq.fifo', url: 'http://sqs/payment_dlq.fifo', arn: 'arn:d' },
};

function message(id: string, group: string, seq: number, receiveCount: number): Message {
  const encoded = encodeRecord(
    encodeEvent('orders', {
      specversion: '1.0',
      id,
      source: '/test',
      type: 'T',
      time: new Date(0).toISOString(),
      datacontenttype: 'application/json',
      partitionkey: group,
      data: { id },
    }),
  );
  return {
    MessageId: id,
    ReceiptHandle: `${id}#${receiveCount}`,
    Body: encoded.body,
    MessageAttributes: encoded.attributes,
    Attributes: {
      MessageGroupId: group,
      SequenceNumber: String(seq),
      ApproximateReceiveCount: String(receiveCount),
    },
  };
}

/**
 * An SQS stand-in that answers receives from a script, as AWS does and fauxqs does not: several messages of one
 * FIFO group in one answer. It records visibility changes and deletes.
 */
function fakeSqs(script: (() => Promise<Message[]>)[]) {
  const visibility: [string, number][] = [];
  const deleted: string[] = [];
  const client = {
    send(command: unknown): Promise<unknown> {
      if (command instanceof ReceiveMessageCommand) {
        const next = script.shift();
        return next === undefined
          ? new Promise((resolve) => setTimeout(() => resolve({ Messages: [] }), 20))
          : next().then((Messages) => ({ Messages }));
      }
      if (command instanceof ChangeMessageVisibilityBatchCommand) {
        for (const e of command.input.Entries ?? [])
          visibility.push([e.ReceiptHandle!, e.VisibilityTimeout!]);
        return Promise.resolve({ Successful: [], Failed: [] });
      }
      if (command instanceof DeleteMessageBatchCommand) {
        for (const e of command.input.Entries ?? []) deleted.push(e.ReceiptHandle!);
        return Promise.resolve({ Successful: [], Failed: [] });
      }
      return Promise.reject(new Error(`unexpected ${String(command)}`));
    },
  };
  return { client: client as unknown as SQSClient, visibility, deleted };
}

function consumer(sqs: SQSClient, released: ReleasedReceives, onDelivery: (d: Delivery) => Promise<void>) {
  return new GroupConsumer(
    {
      sqs,
      topology: { groupQueues: () => Promise.resolve(queues) } as unknown as Topology,
      options: resolveOptions({ fifo: true, visibilityTimeoutSeconds: 30, waitTimeSeconds: 1 }),
      ops: new QueueOps(sqs),
      deadLetters: {} as unknown as SqsDeadLetters,
      released,
      onError: (error) => assert.fail(error as Error),
    },
    { group: 'payment', topics: ['orders'], concurrency: 4 },
    onDelivery,
  );
}

describe('GroupConsumer on a FIFO queue', () => {
  it('hands back the messages queued behind a retried one of its group, which keep their attempt count', async () => {
    let retried = false;
    const fake = fakeSqs([
      () => Promise.resolve([message('a1', 'a', 1, 1), message('a2', 'a', 2, 1), message('b1', 'b', 3, 1)]),
      // After the delay, SQS returns the group in order again; each was received twice now.
      async () => {
        await waitFor(() => retried, 5000, 'the retry');
        return [message('a1', 'a', 1, 2), message('a2', 'a', 2, 2)];
      },
    ]);
    const released = new ReleasedReceives();
    const handled: string[] = [];
    const sub = consumer(fake.client, released, async (delivery) => {
      const id = delivery.record.attributes.id!;
      handled.push(`${id}@${delivery.attempt}`);
      if (id === 'a1' && delivery.attempt === 1) {
        await delivery.retryLater(1500, { name: 'Error', message: 'later' });
        retried = true;
      } else await delivery.ack();
    });
    sub.start();
    await sub.ready;
    await waitFor(() => handled.length === 4, 5000, 'four deliveries');
    await sub.close({ timeoutMs: 1000 });
    sub.abortReceives();
    assert.deepEqual(
      handled.filter((h) => h.startsWith('a')),
      ['a1@1', 'a1@2', 'a2@1'],
    );
    assert.ok(handled.includes('b1@1'));
    // a2 went back at once (visibility 0), a1 for the delay rounded up to whole seconds.
    assert.deepEqual(fake.visibility.filter(([receipt]) => receipt.endsWith('#1')).sort(), [
      ['a1#1', 2],
      ['a2#1', 0],
    ]);
    assert.deepEqual(fake.deleted.sort(), ['a1#2', 'a2#2', 'b1#1']);
  });

  it('runs a group in order after the handback', async () => {
    const fake = fakeSqs([
      () => Promise.resolve([message('a1', 'a', 1, 1), message('a2', 'a', 2, 1), message('a3', 'a', 3, 1)]),
    ]);
    const order: string[] = [];
    const sub = consumer(fake.client, new ReleasedReceives(), async (delivery) => {
      order.push(delivery.record.attributes.id!);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await delivery.ack();
    });
    sub.start();
    await waitFor(() => order.length === 3, 5000, 'three deliveries');
    await sub.close();
    sub.abortReceives();
    assert.deepEqual(order, ['a1', 'a2', 'a3']);
  });

  it('at close hands back what has not started, last first, and abandons what does not finish in time', async () => {
    const fake = fakeSqs([
      () => Promise.resolve([message('a1', 'a', 1, 1), message('a2', 'a', 2, 1), message('a3', 'a', 3, 1)]),
    ]);
    let started = 0;
    const sub = consumer(fake.client, new ReleasedReceives(), () => {
      started++;
      return new Promise<void>(() => undefined);
    });
    sub.start();
    await waitFor(() => started === 1, 5000, 'the first delivery');
    await sub.close({ timeoutMs: 50 });
    sub.abortReceives();
    assert.deepEqual(fake.visibility, [
      ['a3#1', 0],
      ['a2#1', 0],
      ['a1#1', 0],
    ]);
    assert.equal(started, 1);
  });
});
