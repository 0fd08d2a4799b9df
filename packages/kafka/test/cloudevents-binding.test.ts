import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRecord, encodeEvent, type CloudEvent } from '@herald/core';
import { decodeKafkaRecord, encodeHeaders } from '../src/cloudevents-binding.ts';

const pairs = (headers: Map<Buffer, Buffer>): [string, string][] =>
  [...headers].map(([k, v]) => [k.toString('utf8'), v.toString('utf8')]);

describe('CloudEvents Kafka binding', () => {
  const event: CloudEvent = {
    specversion: '1.0',
    id: '0190a5b2-0000-7000-8000-000000000001',
    source: '/shop/order-service',
    type: 'OrderPlaced',
    subject: 'order-1',
    time: '2026-01-02T03:04:05.000Z',
    datacontenttype: 'application/json',
    data: { orderId: '1', amount: 100, note: 'héllo ✓' },
    partitionkey: 'order-1',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    correlationid: 'c-1',
    extensions: { tenant: 'acme' },
  };

  it('writes binary mode: ce_ headers, content-type for datacontenttype, partitionkey kept', () => {
    const record = encodeEvent('orders', event);
    const headers = new Map(pairs(encodeHeaders(record.attributes)));
    assert.equal(headers.get('content-type'), 'application/json');
    assert.equal(headers.get('ce_datacontenttype'), undefined);
    assert.equal(headers.get('ce_specversion'), '1.0');
    assert.equal(headers.get('ce_id'), event.id);
    assert.equal(headers.get('ce_source'), '/shop/order-service');
    assert.equal(headers.get('ce_type'), 'OrderPlaced');
    assert.equal(headers.get('ce_time'), event.time);
    // The binding: a key mapper must not modify the event, so partitionkey is still sent.
    assert.equal(headers.get('ce_partitionkey'), 'order-1');
    assert.equal(headers.get('ce_tenant'), 'acme');
  });

  it('round-trips an event through headers, key and value', () => {
    const record = encodeEvent('orders', event);
    const headers = encodeHeaders(record.attributes);
    const decoded = decodeKafkaRecord(
      'orders',
      Buffer.from(record.key!),
      Buffer.from(record.data),
      [...headers].map(([k, v]) => [k, v] as const),
    );
    assert.equal(decoded.record.key, 'order-1');
    assert.deepEqual(decoded.record.attributes, record.attributes);
    assert.deepEqual(decodeRecord(decoded.record), event);
    assert.deepEqual(decoded.control, {});
  });

  it('separates Herald control headers from attributes and ignores foreign headers', () => {
    const headers = encodeHeaders({ id: 'x', source: '/s', type: 'T' }, { attempt: '3', 'due-at': '17' });
    headers.set(Buffer.from('traceparent'), Buffer.from('not an attribute'));
    const decoded = decodeKafkaRecord('t', null, null, headers);
    assert.deepEqual(decoded.record.attributes, { id: 'x', source: '/s', type: 'T' });
    assert.deepEqual(decoded.control, { attempt: '3', 'due-at': '17' });
    assert.equal(decoded.record.key, undefined);
    assert.equal(decoded.record.data.length, 0);
  });

  it('skips null header names and values', () => {
    const decoded = decodeKafkaRecord('t', null, Buffer.from('x'), [
      [null, Buffer.from('v')],
      [Buffer.from('ce_id'), null],
      [Buffer.from('ce_type'), Buffer.from('T')],
    ]);
    assert.deepEqual(decoded.record.attributes, { type: 'T' });
  });

  it('reads structured mode (application/cloudevents+json) as written by CloudEvents SDKs', () => {
    const value = Buffer.from(
      JSON.stringify({
        specversion: '1.0',
        id: 'e-1',
        source: '/sdk',
        type: 'OrderPlaced',
        datacontenttype: 'application/json',
        sequence: 5,
        data: { orderId: '7' },
      }),
    );
    const decoded = decodeKafkaRecord('orders', Buffer.from('k'), value, [
      [Buffer.from('content-type'), Buffer.from('application/cloudevents+json; charset=UTF-8')],
    ]);
    assert.equal(decoded.record.attributes.id, 'e-1');
    assert.equal(decoded.record.attributes.sequence, '5');
    const cloudEvent = decodeRecord(decoded.record);
    assert.deepEqual(cloudEvent.data, { orderId: '7' });
    assert.deepEqual(cloudEvent.extensions, { sequence: '5' });
  });

  it('reads structured data_base64 and text data', () => {
    const b64 = decodeKafkaRecord(
      't',
      null,
      Buffer.from(JSON.stringify({ id: '1', source: '/s', type: 'T', data_base64: 'AQID' })),
      [[Buffer.from('content-type'), Buffer.from('application/cloudevents+json')]],
    );
    assert.deepEqual([...b64.record.data], [1, 2, 3]);
    const text = decodeKafkaRecord(
      't',
      null,
      Buffer.from(
        JSON.stringify({ id: '1', source: '/s', type: 'T', datacontenttype: 'text/plain', data: 'hi' }),
      ),
      [[Buffer.from('content-type'), Buffer.from('application/cloudevents+json')]],
    );
    assert.equal(Buffer.from(text.record.data).toString(), 'hi');
  });

  it('leaves a broken structured event to fail decoding with a precise reason', () => {
    const decoded = decodeKafkaRecord('t', null, Buffer.from('{not json'), [
      [Buffer.from('content-type'), Buffer.from('application/cloudevents+json')],
    ]);
    assert.throws(() => decodeRecord(decoded.record), { code: 'HERALD_DECODE' });
  });

  it('treats a record without ce_ headers as attribute-less (plain clients)', () => {
    const decoded = decodeKafkaRecord('orders', Buffer.from('123'), Buffer.from('{"event":"OrderPlaced"}'), [
      [Buffer.from('content-type'), Buffer.from('application/json')],
    ]);
    assert.deepEqual(decoded.record.attributes, { datacontenttype: 'application/json' });
    assert.equal(decoded.record.key, '123');
  });
});
