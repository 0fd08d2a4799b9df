import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from 'amqplib';
import { encodeEvent } from '@herald/core';
import { recordToPublication } from '../src/amqp-binding.ts';
import { groupOfId, toDeadLetter } from '../src/dead-letter-queue.ts';
import { Topology } from '../src/topology.ts';
import { deliveredMessage } from './fixtures/delivered-message.ts';

const topology = new Topology({ prefix: '', partitions: 4, queueType: 'quorum' });
const record = encodeEvent('orders', {
  specversion: '1.0',
  id: 'e-1',
  source: '/s',
  type: 'OrderPlaced',
  time: '2026-01-02T03:04:05.000Z',
  datacontenttype: 'application/json',
  data: { n: 1 },
  partitionkey: 'k',
});

function message(headers: Record<string, unknown>): Message {
  return deliveredMessage(recordToPublication(record, headers), {
    deliveryTag: 9,
    exchange: '',
    routingKey: 'payment',
  });
}

describe('rabbitmq dead letters', () => {
  it('reads a dead letter Herald wrote: failure, group, origin, time', () => {
    const failure = {
      error: { name: 'Error', message: 'boom', stack: 'Error: boom' },
      attempts: 3,
      reason: 'max-attempts',
    };
    const dead = toDeadLetter(
      message({
        herald_dead_letter_id: 'payment:abc',
        herald_failure: JSON.stringify(failure),
        herald_group: 'payment',
        herald_topic: 'orders',
        herald_partition: 2,
        herald_offset: '17',
        herald_attempt: 3,
        herald_dead_lettered_at: '2026-01-02T03:04:06.000Z',
      }),
      'payment',
      topology,
    );
    assert.equal(dead.id, 'payment:abc');
    assert.equal(dead.group, 'payment');
    assert.equal(dead.partition, 2);
    assert.equal(dead.offset, '17');
    assert.deepEqual(dead.failure, failure);
    assert.equal(dead.deadLetteredAt, '2026-01-02T03:04:06.000Z');
    assert.equal(dead.record.topic, 'orders');
    assert.equal(dead.record.key, 'k');
    assert.equal(dead.record.attributes.id, 'e-1');
    assert.equal(groupOfId(dead.id), 'payment');
  });

  it('describes a message RabbitMQ dead-lettered itself, from x-death', () => {
    const dead = toDeadLetter(
      message({
        'x-first-death-reason': 'delivery_limit',
        'x-first-death-queue': 'orders:payment:1',
        'x-death': [
          {
            count: 1,
            reason: 'delivery_limit',
            queue: 'orders:payment:1',
            time: { '!': 'timestamp', value: 1_767_323_046 },
          },
        ],
        herald_attempt: 2,
      }),
      'payment',
      topology,
    );
    assert.equal(dead.id, 'payment:e-1');
    assert.equal(dead.record.topic, 'orders');
    assert.equal(dead.partition, 1);
    assert.equal(dead.failure.reason, 'broker-delivery_limit');
    assert.equal(dead.failure.attempts, 2);
    assert.equal(dead.deadLetteredAt, '2026-01-02T03:04:06.000Z');
  });
});
