import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeMessage,
  encodeHeaders,
  KEY_HEADER,
  percentDecode,
  percentEncode,
} from '../src/cloudevents-binding.ts';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('CloudEvents NATS binding', () => {
  it('percent-encodes header values as the binding prescribes', () => {
    // The binding's own example.
    assert.equal(percentEncode('Euro € 😀'), 'Euro%20%E2%82%AC%20%F0%9F%98%80');
    assert.equal(percentEncode('a"b%c'), 'a%22b%25c');
    assert.equal(percentEncode('line\nbreak\u007f'), 'line%0Abreak%7F');
    assert.equal(percentEncode('/shop/order-service?x=1&y=[2]'), '/shop/order-service?x=1&y=[2]');
    assert.equal(percentEncode(''), '');
    assert.equal(percentEncode('~!#$&'), '~!#$&');
  });

  it('decodes percent-encoding (either case), quoted strings, and rejects invalid UTF-8', () => {
    assert.equal(percentDecode('Euro%20%e2%82%ac%20%F0%9F%98%80'), 'Euro € 😀');
    assert.equal(percentDecode('"quoted \\"value\\""'), 'quoted "value"');
    assert.equal(percentDecode('100%'), '100%');
    assert.equal(percentDecode('%41'), 'A');
    // A `%` not followed by two hex digits stays, next to escapes that decode.
    assert.equal(percentDecode('50%%20off%2'), '50% off%2');
    assert.equal(percentDecode('%E2%82%AC 100%'), '€ 100%');
    assert.throws(() => percentDecode('%C0%A0'), TypeError);
  });

  it('maps every attribute to a ce- header and back', () => {
    const attributes = {
      specversion: '1.0',
      id: 'id-1',
      source: '/herald/test',
      type: 'ThingHappened',
      subject: 'spaces and ünïcode',
      partitionkey: 'k1',
      tenant: 'acme',
    };
    const pairs = encodeHeaders(attributes, 'k1');
    assert.ok(
      pairs.every(([name]) => name.startsWith('ce-')),
      'the key is the partitionkey attribute',
    );
    assert.deepEqual(
      pairs.find(([name]) => name === 'ce-subject'),
      ['ce-subject', 'spaces%20and%20%C3%BCn%C3%AFcode'],
    );
    const decoded = decodeMessage(pairs, new TextEncoder().encode('{"a":1}'));
    assert.deepEqual(decoded.attributes, attributes);
    assert.equal(decoded.key, 'k1');
    assert.equal(text(decoded.data), '{"a":1}');
  });

  it('carries a key that is not the partitionkey attribute in its own header', () => {
    const pairs = encodeHeaders({ id: '1', source: '/s', type: 'T' }, 'the key');
    assert.deepEqual(pairs.at(-1), [KEY_HEADER, 'the%20key']);
    assert.equal(decodeMessage(pairs, new Uint8Array()).key, 'the key');
    assert.equal(decodeMessage([['ce-id', '1']], new Uint8Array()).key, undefined);
  });

  it('reads header names in any case and drops values that are not valid UTF-8', () => {
    const decoded = decodeMessage(
      [
        ['Ce-Id', 'x'],
        ['CE-TYPE', 'T'],
        ['ce-broken', '%FF'],
        ['Nats-Msg-Id', 'ignored'],
      ],
      new Uint8Array(),
    );
    assert.deepEqual(decoded.attributes, { id: 'x', type: 'T' });
  });

  it('reads structured mode (what a client without headers sends)', () => {
    const body = new TextEncoder().encode(
      JSON.stringify({
        specversion: '1.0',
        id: 's-1',
        source: '/plain',
        type: 'OrderPlaced',
        datacontenttype: 'application/json',
        data: { orderId: '123' },
        sequence: 7,
      }),
    );
    const decoded = decodeMessage([['Content-Type', 'application/cloudevents+json; charset=utf-8']], body);
    assert.deepEqual(decoded.attributes, {
      specversion: '1.0',
      id: 's-1',
      source: '/plain',
      type: 'OrderPlaced',
      datacontenttype: 'application/json',
      sequence: '7',
    });
    assert.deepEqual(JSON.parse(text(decoded.data)), { orderId: '123' });
    const binary = decodeMessage(
      [['content-type', 'application/cloudevents+json']],
      new TextEncoder().encode(
        JSON.stringify({ id: 'b', data_base64: Buffer.from([1, 2, 3]).toString('base64') }),
      ),
    );
    assert.deepEqual([...binary.data], [1, 2, 3]);
    const text_ = decodeMessage(
      [['content-type', 'application/cloudevents+json']],
      new TextEncoder().encode(JSON.stringify({ id: 't', datacontenttype: 'text/plain', data: 'hi' })),
    );
    assert.equal(text(text_.data), 'hi');
    const garbage = decodeMessage(
      [['content-type', 'application/cloudevents+json']],
      new TextEncoder().encode('{'),
    );
    assert.deepEqual(garbage.attributes, {});
  });
});
