import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRecord, encodeEvent, type CloudEvent, type TransportRecord } from '@herald/core';
import {
  decodeMessage,
  encodeRecord,
  HERALD_ATTRIBUTE,
  isSqsText,
  MAX_MESSAGE_ATTRIBUTES,
  PACKED_ATTRIBUTE,
  readMeta,
  sqsSafeJson,
  type EncodedMessage,
} from '../src/message-binding.ts';

const full: CloudEvent = {
  specversion: '1.0',
  id: '0190b0a4-1c2d-7e3f-8a9b-0c1d2e3f4a5b',
  source: '/shop/order',
  type: 'OrderPlaced',
  time: '2025-01-02T03:04:05.678Z',
  datacontenttype: 'application/json',
  subject: 'order-1',
  dataschema: 'https://example.com/order.json',
  partitionkey: 'order-1',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'vendor=value',
  correlationid: 'corr-1',
  causationid: 'cause-1',
  extensions: { tenant: 'acme', region: 'eu', tier: 'gold', shard: '7' },
  data: { orderId: 'order-1', note: 'héllo ✓ 😀' },
};

/** What the SQS consumer receives for a message SNS delivered raw. */
function received(message: EncodedMessage, groupId?: string): Parameters<typeof decodeMessage>[1] {
  return {
    Body: message.body,
    MessageAttributes: message.attributes,
    Attributes: groupId === undefined ? {} : { MessageGroupId: groupId },
  };
}

describe('CloudEvents on SNS/SQS messages', () => {
  it('stays within 10 message attributes whatever the event carries', () => {
    const encoded = encodeRecord(encodeEvent('orders', full));
    const names = Object.keys(encoded.attributes).sort();
    assert.ok(names.length <= MAX_MESSAGE_ATTRIBUTES - 1, `${names.length}: ${names.join(', ')}`);
    assert.deepEqual(names, [
      'ce_attributes.json',
      'ce_id',
      'ce_source',
      'ce_specversion',
      'ce_subject',
      'ce_time',
      'ce_type',
      'content-type',
      'herald',
    ]);
    assert.equal(encoded.attributes.ce_type?.StringValue, 'OrderPlaced');
    assert.equal(encoded.attributes['content-type']?.StringValue, 'application/json');
    const packed = JSON.parse(encoded.attributes[PACKED_ATTRIBUTE]!.StringValue!) as Record<string, string>;
    assert.equal(packed.traceparent, full.traceparent);
    assert.equal(packed.tenant, 'acme');
    assert.equal(encoded.body, JSON.stringify(full.data));
  });

  it('round-trips the envelope through encode and decode', () => {
    const record = encodeEvent('orders', full);
    const back = decodeMessage('orders', received(encodeRecord(record), 'order-1'));
    assert.equal(back.key, 'order-1');
    assert.equal(back.topic, 'orders');
    assert.deepEqual(decodeRecord(back), full);
  });

  it('carries data SQS cannot take as text in base64, and empty data', () => {
    const bytes = new Uint8Array([0xff, 0x00, 0x01, 0xfe]);
    const binary: TransportRecord = {
      topic: 't',
      key: 'k',
      attributes: {
        specversion: '1.0',
        id: '1',
        source: '/s',
        type: 'T',
        datacontenttype: 'application/octet-stream',
      },
      data: bytes,
    };
    const encoded = encodeRecord(binary);
    assert.equal(readMeta(encoded.attributes)?.body, 'base64');
    assert.deepEqual([...decodeMessage('t', received(encoded)).data], [...bytes]);
    const control = encodeRecord({ ...binary, data: new TextEncoder().encode('a\u0000b') });
    assert.equal(readMeta(control.attributes)?.body, 'base64');
    const empty = encodeRecord({ ...binary, data: new Uint8Array(0) });
    assert.ok(empty.body.length > 0, 'SNS refuses an empty message');
    assert.equal(decodeMessage('t', received(empty)).data.length, 0);
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x41]);
    assert.deepEqual(
      [...decodeMessage('t', received(encodeRecord({ ...binary, data: bom }))).data],
      [...bom],
    );
  });

  it('packs values SQS refuses as attributes (empty, control characters) and restores them', () => {
    const record: TransportRecord = {
      topic: 't',
      key: 'raw-key',
      attributes: {
        specversion: '1.0',
        id: '1',
        source: '/s',
        type: 'T',
        subject: '',
        tenant: 'a\u0001\ufffeb',
      },
      data: new TextEncoder().encode('{}'),
    };
    const encoded = encodeRecord(record);
    assert.equal(encoded.attributes.ce_subject, undefined);
    for (const value of Object.values(encoded.attributes)) assert.ok(isSqsText(value.StringValue!));
    const back = decodeMessage('t', received(encoded));
    assert.deepEqual(back.attributes, record.attributes);
    assert.equal(back.key, 'raw-key', 'a key that is not the partitionkey travels in the metadata');
  });

  it('reads plain producers: ce- or ce_ attributes, and the FIFO group as key without Herald metadata', () => {
    const back = decodeMessage('t', {
      Body: '{"a":1}',
      MessageAttributes: {
        'ce-id': { DataType: 'String', StringValue: 'x1' },
        ce_source: { DataType: 'String', StringValue: '/legacy' },
        ce_type: { DataType: 'String.custom', StringValue: 'Legacy' },
        'content-type': { DataType: 'String', StringValue: 'application/json' },
        other: { DataType: 'String', StringValue: 'ignored' },
      },
      Attributes: { MessageGroupId: 'g-1' },
    });
    assert.deepEqual(back.attributes, {
      id: 'x1',
      source: '/legacy',
      type: 'Legacy',
      datacontenttype: 'application/json',
    });
    assert.equal(back.key, 'g-1');
    assert.deepEqual(decodeRecord(back).data, { a: 1 });
  });

  it('is lenient with malformed Herald attributes (the codec then reports what is missing)', () => {
    const back = decodeMessage('t', {
      Body: 'x',
      MessageAttributes: {
        [PACKED_ATTRIBUTE]: { DataType: 'String', StringValue: '{not json' },
        [HERALD_ATTRIBUTE]: { DataType: 'String', StringValue: '[1]' },
      },
    });
    assert.deepEqual(back.attributes, {});
    assert.throws(() => decodeRecord(back), { code: 'HERALD_DECODE' });
  });

  it('writes JSON SQS accepts', () => {
    const json = sqsSafeJson({ a: 'x\ufffey\uffff', b: '\u0000' });
    assert.ok(isSqsText(json));
    assert.deepEqual(JSON.parse(json), { a: 'x\ufffey\uffff', b: '\u0000' });
  });
});
