import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertSubscribeRefused } from '@herald/core/testing';
import { kafka } from '../src/index.ts';
import { resolveKafkaOptions, type KafkaTransportOptions } from '../src/kafka-options.ts';
import { TopicNames } from '../src/topic-names.ts';

const brokers = ['127.0.0.1:19092'];

function rejects(options: unknown, option: string): void {
  assert.throws(
    () => kafka(options as KafkaTransportOptions),
    (error: { code?: string; details?: { option?: string } }) =>
      error.code === 'HERALD_CONFIG' && error.details?.option === option,
    option,
  );
}

describe('kafka() options', () => {
  it('applies defaults', () => {
    const o = resolveKafkaOptions({ brokers });
    assert.equal(o.clientId, 'herald');
    assert.equal(o.partitions, 6);
    assert.equal(o.replicationFactor, -1);
    assert.equal(o.topicPrefix, 'herald');
    assert.ok(o.rebalanceTimeoutMs >= o.sessionTimeoutMs);
    assert.ok(o.requestTimeoutMs > o.maxWaitMs);
  });

  it('rejects bad options at start-up, naming the option', () => {
    rejects(undefined, 'options');
    rejects({}, 'brokers');
    rejects({ brokers: [] }, 'brokers');
    rejects({ brokers: ['kafka://127.0.0.1:19092'] }, 'brokers');
    rejects({ brokers: ['127.0.0.1'] }, 'brokers');
    rejects({ brokers, partitions: 0 }, 'partitions');
    rejects({ brokers, partitions: 1.5 }, 'partitions');
    rejects({ brokers, replicationFactor: 0 }, 'replicationFactor');
    rejects({ brokers, clientId: 'has space' }, 'clientId');
    rejects({ brokers, topicPrefix: 'a/b' }, 'topicPrefix');
    rejects({ brokers, sessionTimeoutMs: 1000, heartbeatIntervalMs: 2000 }, 'heartbeatIntervalMs');
    rejects({ brokers, sessionTimeoutMs: 5000, rebalanceTimeoutMs: 1000 }, 'rebalanceTimeoutMs');
    rejects({ brokers, maxWaitMs: 5000, requestTimeoutMs: 5000 }, 'requestTimeoutMs');
    rejects({ brokers, deadLetterRetentionMs: 0 }, 'deadLetterRetentionMs');
    rejects({ brokers, onError: 'log' }, 'onError');
    rejects({ brokers, tls: true }, 'tls');
  });

  it('accepts IPv6 and host names', () => {
    assert.doesNotThrow(() => resolveKafkaOptions({ brokers: ['[::1]:9092', 'kafka-0.kafka:9092'] }));
  });

  it('checks groups and topics when subscribing, before any connection', async () => {
    const transport = kafka({ brokers });
    assertSubscribeRefused(
      transport,
      { group: 'a b', topics: ['t'], concurrency: 1 },
      { group: 'g', topics: [], concurrency: 1 },
      { group: 'g', topics: ['__consumer_offsets'], concurrency: 1 },
      { group: 'g', topics: ['t'], concurrency: 0 },
    );
    await transport.close();
    await assert.rejects(() => transport.publish([]), { code: 'HERALD_CLOSED' });
  });
});

describe('TopicNames', () => {
  const names = new TopicNames('herald');

  it('names a group’s retry and dead-letter topics and finds the group back', () => {
    assert.equal(names.retry('pay.ments'), 'herald.pay.ments.retry');
    assert.equal(names.deadLetter('pay.ments'), 'herald.pay.ments.dlq');
    assert.equal(names.groupOfDeadLetter('herald.pay.ments.dlq'), 'pay.ments');
    assert.equal(names.groupOfDeadLetter('herald.pay.ments.retry'), undefined);
    assert.equal(names.groupOfDeadLetter('orders'), undefined);
  });

  it('refuses groups that make illegal topic names', () => {
    assert.throws(() => names.checkGroup('a/b'), { code: 'HERALD_CONFIG' });
    assert.throws(() => names.checkGroup('x'.repeat(240)), { code: 'HERALD_CONFIG' });
  });
});
