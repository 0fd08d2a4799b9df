import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DELAY_TIERS_MS, delayTier, Topology } from '../src/topology.ts';

describe('rabbitmq topology', () => {
  const topology = new Topology({ prefix: 'p.', partitions: 4, queueType: 'quorum' });

  it('names every exchange and queue from the topic and group, unambiguously', () => {
    assert.equal(topology.exchange('orders'), 'p.orders');
    assert.equal(topology.unroutedExchange('orders'), 'p.orders:unrouted:4');
    assert.equal(topology.partitionQueue('orders', 'payment', 3), 'p.orders:payment:3');
    assert.equal(topology.lockQueue('orders', 'payment', 3), 'p.orders:payment:3:lock');
    assert.equal(topology.membersQueue('orders', 'payment'), 'p.orders:payment:members');
    assert.equal(topology.deadLetterQueue('payment'), 'p.payment:dead-letter');
    assert.equal(topology.deadLetterExchange, 'p.herald:dead-letter');
    assert.equal(topology.delayName(500), 'p.herald:delay:500ms');
    // Dotted names stay apart: ':' cannot occur in a Herald topic or group.
    assert.notEqual(topology.partitionQueue('a.b', 'c', 0), topology.partitionQueue('a', 'b.c', 0));
  });

  it('reads a partition queue name back', () => {
    assert.deepEqual(topology.parsePartitionQueue('p.orders.eu:pay-ment:2'), {
      topic: 'orders.eu',
      group: 'pay-ment',
      partition: 2,
    });
    assert.equal(topology.parsePartitionQueue('q.orders:payment:2'), undefined);
    assert.equal(topology.parsePartitionQueue('p.orders:payment:members'), undefined);
  });

  it('puts the partition count in the alternate exchange, which the broker compares', () => {
    const other = new Topology({ prefix: 'p.', partitions: 8, queueType: 'quorum' });
    assert.notEqual(
      topology.exchangeOptions('orders').alternateExchange,
      other.exchangeOptions('orders').alternateExchange,
    );
  });

  it('declares partition queues with single active consumer and dead-lettering to the group', () => {
    assert.deepEqual(topology.partitionQueueArguments('payment'), {
      'x-queue-type': 'quorum',
      'x-single-active-consumer': true,
      'x-dead-letter-exchange': 'p.herald:dead-letter',
      'x-dead-letter-routing-key': 'payment',
    });
    assert.equal(topology.delayQueueArguments(500)['x-dead-letter-strategy'], 'at-least-once');
    const classic = new Topology({ prefix: '', partitions: 1, queueType: 'classic' });
    assert.equal(classic.delayQueueArguments(500)['x-dead-letter-strategy'], undefined);
  });

  it('picks the smallest delay tier not shorter than the delay, at most 1.5 times longer', () => {
    for (let i = 1; i < DELAY_TIERS_MS.length; i++) {
      assert.ok(DELAY_TIERS_MS[i]! > DELAY_TIERS_MS[i - 1]!);
      assert.ok(DELAY_TIERS_MS[i]! <= DELAY_TIERS_MS[i - 1]! * 1.5);
    }
    assert.equal(delayTier(1), 10);
    assert.equal(delayTier(400), 400);
    assert.equal(delayTier(401), 500);
    for (const delay of [11, 99, 1234, 61_000, 3_600_001]) {
      const tier = delayTier(delay);
      assert.ok(tier >= delay && tier <= Math.max(10, delay * 1.5), `${delay} -> ${tier}`);
    }
    assert.equal(delayTier(10 ** 10), DELAY_TIERS_MS.at(-1));
  });
});
