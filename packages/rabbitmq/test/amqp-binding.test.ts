import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message } from 'amqplib';
import { decodeRecord, encodeEvent, type CloudEvent } from '@herald/core';
import {
  attemptOf,
  messageAttributes,
  messageToRecord,
  recordToPublication,
  type AmqpPublication,
} from '../src/amqp-binding.ts';
import { deliveredMessage } from './fixtures/delivered-message.ts';

const event: CloudEvent = {
  specversion: '1.0',
  id: '0190f0c4-0000-7000-8000-000000000001',
  source: '/shop/order',
  type: 'OrderPlaced',
  subject: 'order-1',
  time: '2026-01-02T03:04:05.678Z',
  datacontenttype: 'application/json',
  data: { orderId: 'order-1', amount: 100, note: 'héllo ✓' },
  partitionkey: 'order-1',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  correlationid: 'corr-1',
  extensions: { tenant: 'acme' },
};

/** What a consumer of the published message receives. */
function received(publication: AmqpPublication): Message {
  return deliveredMessage(publication, { deliveryTag: 1, exchange: 'orders', routingKey: '0' });
}

describe('CloudEvents AMQP binding (binary mode)', () => {
  it('maps datacontenttype to content-type and every other attribute to a cloudEvents_ header', () => {
    const { content, options } = recordToPublication(encodeEvent('orders', event));
    assert.equal(options.contentType, 'application/json');
    assert.equal(options.persistent, true);
    assert.deepEqual(options.headers, {
      cloudEvents_specversion: '1.0',
      cloudEvents_id: event.id,
      cloudEvents_source: '/shop/order',
      cloudEvents_type: 'OrderPlaced',
      cloudEvents_time: event.time,
      cloudEvents_subject: 'order-1',
      cloudEvents_partitionkey: 'order-1',
      cloudEvents_traceparent: event.traceparent,
      cloudEvents_correlationid: 'corr-1',
      cloudEvents_tenant: 'acme',
    });
    assert.equal(options.messageId, event.id);
    assert.equal(options.type, 'OrderPlaced');
    assert.equal(options.timestamp, Math.floor(Date.parse(event.time) / 1000));
    assert.deepEqual(JSON.parse(content.toString('utf8')), event.data);
  });

  it('round-trips an event, key included', () => {
    const record = encodeEvent('orders', event);
    const back = messageToRecord('orders', received(recordToPublication(record)));
    assert.equal(back.key, 'order-1');
    assert.deepEqual(decodeRecord(back), event);
  });

  it('carries a record key that differs from the partitionkey attribute', () => {
    const record = { ...encodeEvent('orders', event), key: 'other-key' };
    const publication = recordToPublication(record);
    assert.equal((publication.options.headers as Record<string, unknown>).herald_key, 'other-key');
    assert.equal(messageToRecord('orders', received(publication)).key, 'other-key');
  });

  it('reads the "cloudEvents:" prefix and native AMQP values from other clients', () => {
    const message = received({
      content: Buffer.from('{}'),
      options: {
        contentType: 'application/json; charset=utf-8',
        headers: {
          'cloudEvents:specversion': '1.0',
          'cloudEvents:id': 'x-1',
          'cloudEvents:source': '/plain',
          'cloudEvents:type': 'Pinged',
          'cloudEvents:time': { '!': 'timestamp', value: 1_767_323_045 },
          'cloudEvents:count': 3,
          'cloudEvents:flag': true,
          'cloudEvents:blob': Buffer.from([1, 2, 3]),
          'cloudEvents:datacontenttype': 'text/plain',
          'x-other': 'ignored',
        },
      },
    });
    assert.deepEqual(messageAttributes(message), {
      specversion: '1.0',
      id: 'x-1',
      source: '/plain',
      type: 'Pinged',
      time: '2026-01-02T03:04:05.000Z',
      count: '3',
      flag: 'true',
      blob: 'AQID',
      datacontenttype: 'application/json; charset=utf-8',
    });
  });

  it('reads the attempt header, 1 when absent or malformed', () => {
    const publication = recordToPublication(encodeEvent('orders', event));
    assert.equal(attemptOf(received(publication)), 1);
    const retried = recordToPublication(encodeEvent('orders', event), { herald_attempt: 3 });
    assert.equal(attemptOf(received(retried)), 3);
    const bad = recordToPublication(encodeEvent('orders', event), { herald_attempt: 'x' });
    assert.equal(attemptOf(received(bad)), 1);
  });
});
