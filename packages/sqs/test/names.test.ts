import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deduplicationId,
  escapeName,
  MAX_QUEUE_NAME,
  MAX_TOPIC_NAME,
  messageGroupId,
  Names,
  unescapeName,
} from '../src/names.ts';

describe('escapeName', () => {
  it('keeps letters, digits and "-", escapes the rest as "_" and hex', () => {
    assert.equal(escapeName('orders-v2'), 'orders-v2');
    assert.equal(escapeName('orders.v2'), 'orders_2ev2');
    assert.equal(escapeName('order_events'), 'order_5fevents');
    assert.equal(escapeName('é'), '_c3_a9');
  });

  it('is injective and reversible, and never writes two "_" in a row', () => {
    const names = ['a.b', 'a_2eb', 'a_b', 'a__b', 'a-b', 'a--b', 'x.y_z-1', 'ünï.cödé'];
    const escaped = names.map(escapeName);
    assert.equal(new Set(escaped).size, names.length);
    for (const [i, e] of escaped.entries()) {
      assert.doesNotMatch(e, /__/);
      assert.match(e, /^[A-Za-z0-9_-]+$/);
      assert.equal(unescapeName(e), names[i]);
    }
    assert.equal(unescapeName('a_zz'), undefined);
  });
});

describe('Names', () => {
  it('names topics, group queues and dead-letter queues, with .fifo in FIFO mode', () => {
    const fifo = new Names('p-', true);
    assert.equal(fifo.topic('orders'), 'p-orders.fifo');
    assert.equal(fifo.queue('orders', 'payment'), 'p-payment__orders.fifo');
    assert.equal(fifo.deadLetterQueue('payment'), 'p-payment_dlq.fifo');
    const standard = new Names('', false);
    assert.equal(standard.topic('orders.v1'), 'orders_2ev1');
    assert.equal(standard.queue('orders.v1', 'pay_ment'), 'pay_5fment__orders_2ev1');
    assert.equal(standard.deadLetterQueue('payment'), 'payment_dlq');
  });

  it('never gives two (topic, group) pairs, or a queue and a dead-letter queue, the same name', () => {
    const names = new Names('', true);
    const parts = ['a', 'b', 'a_b', 'a__b', 'a.b', 'dlq', 'a_dlq', 'b-dlq'];
    const all: string[] = [];
    for (const topic of parts) for (const group of parts) all.push(names.queue(topic, group));
    for (const group of parts) all.push(names.deadLetterQueue(group));
    assert.equal(new Set(all).size, all.length);
  });

  it('fits long names within the SQS and SNS limits, keeping them distinct with a hash', () => {
    const names = new Names('prefix-', true);
    const long = 'x'.repeat(300);
    const queues = [names.queue(long, 'g1'), names.queue(long, 'g2'), names.queue('t', long)];
    for (const q of queues) {
      assert.ok(q.length <= MAX_QUEUE_NAME, q);
      assert.ok(q.endsWith('.fifo'));
    }
    assert.equal(new Set(queues).size, 3);
    assert.ok(names.topic(long).length <= MAX_TOPIC_NAME);
    const dlq = names.deadLetterQueue(long);
    assert.ok(dlq.length <= MAX_QUEUE_NAME && dlq.endsWith('_dlq.fifo'), dlq);
  });

  it('reads the group back from a dead-letter queue name', () => {
    const names = new Names('p-', true);
    assert.equal(names.groupOfDeadLetterQueue(names.deadLetterQueue('pay.ment')), 'pay.ment');
    assert.equal(names.groupOfDeadLetterQueue('p-payment__orders.fifo'), undefined);
    assert.equal(names.groupOfDeadLetterQueue('other_dlq.fifo'), undefined);
  });
});

describe('FIFO ids', () => {
  it('uses a key or event id as is when SQS accepts it, a hash otherwise', () => {
    assert.equal(messageGroupId('order-42'), 'order-42');
    assert.match(messageGroupId('with space'), /^sha256:[0-9a-f]{64}$/);
    assert.match(messageGroupId('ü'), /^sha256:/);
    assert.match(messageGroupId('k'.repeat(129)), /^sha256:/);
    assert.equal(messageGroupId('with space'), messageGroupId('with space'));
    assert.equal(
      deduplicationId('0190b0a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b'),
      '0190b0a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b',
    );
    assert.match(deduplicationId(''), /^[0-9a-f]{64}$/);
  });
});
