import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAckSubject } from '../src/puller.ts';

describe('parseAckSubject', () => {
  it('reads the delivery count and both sequences of the short form', () => {
    assert.deepEqual(parseAckSubject('$JS.ACK.herald_orders.g-p0.3.1042.17.1733300000000000000.5'), {
      deliveryCount: 3,
      seq: 1042,
      deliverySeq: 17,
    });
  });

  it('reads the form with domain and account hash, and the one with a trailing token', () => {
    const expected = { deliveryCount: 1, seq: 7, deliverySeq: 2 };
    assert.deepEqual(parseAckSubject('$JS.ACK._.ACCHASH.orders.c.1.7.2.1733300000000000000.0'), expected);
    assert.deepEqual(
      parseAckSubject('$JS.ACK.hub.ACCHASH.orders.c.1.7.2.1733300000000000000.0.r4nd0m'),
      expected,
    );
  });

  it('refuses what is not a JetStream ack subject', () => {
    assert.equal(parseAckSubject('_INBOX.abc.def'), undefined);
    assert.equal(parseAckSubject('$JS.ACK.orders.c.1.7'), undefined, 'too few tokens');
    assert.equal(parseAckSubject('$JS.ACK.a.b.c.d.1.7.2.9'), undefined, '10 tokens: neither form');
    assert.equal(parseAckSubject('$JS.ACK.orders.c.x.7.2.1.0'), undefined, 'a count that is not a number');
    assert.equal(
      parseAckSubject('$JS.ACK.orders.c.1.7.2x.5.0'),
      undefined,
      'a sequence that is not an integer',
    );
  });
});
