import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeName, keyToken, Names } from '../src/names.ts';

describe('NATS names', () => {
  it('escapes group and topic names injectively into letters, digits and _', () => {
    assert.equal(escapeName('payments'), 'payments');
    assert.equal(escapeName('shop.orders'), 'shop_2eorders');
    assert.equal(escapeName('a-b_c'), 'a_2db_5fc');
    const names = ['a.b', 'a_b', 'a-b', 'a_2eb', 'ab', 'é'];
    assert.equal(new Set(names.map(escapeName)).size, names.length);
    for (const name of names) assert.match(escapeName(name), /^[A-Za-z0-9_]+$/);
  });

  it('encodes any key, even empty, as one subject token', () => {
    for (const key of ['', 'a.b', 'a b', '*', '>', 'ключ']) assert.match(keyToken(key), /^k[A-Za-z0-9_-]*$/);
    assert.notEqual(keyToken('a'), keyToken('b'));
  });

  it('names streams, subjects and consumers', () => {
    const n = new Names('herald');
    assert.equal(n.topicStream('shop.orders'), 'herald_shop_2eorders');
    assert.equal(n.partitionSubject('shop.orders', 3), 'shop.orders.3');
    assert.deepEqual(n.topicSubjects('orders', 3), ['orders.0', 'orders.1', 'orders.2']);
    assert.equal(n.partitionConsumer('payment-service', 2), 'payment_2dservice-2');
    assert.equal(n.replayConsumer('g', 'orders', 1), 'g-orders-1');
    assert.equal(n.replaySubject('g.1', 'orders', 1), 'herald.replays.g_2e1.orders.1');
    assert.equal(n.deadLetterSubject('g', undefined), 'herald.dead_letters.g.*');
    assert.equal(n.claimSubject('g', 'orders', 0), 'herald.groups.claims.g.orders.0');
    assert.ok(n.parkSubject('g', 'orders', 0, 'k').startsWith('herald.groups.parks.g.orders.0.k'));
    assert.equal(n.partitionParksFilter('g', 'orders', 0), 'herald.groups.parks.g.orders.0.>');
  });

  it('reads the partition count back from a topic stream’s subjects', () => {
    const n = new Names('herald');
    assert.equal(n.partitionsFromSubjects('orders', ['orders.1', 'orders.0', 'orders.2']), 3);
    assert.equal(n.partitionsFromSubjects('orders', ['orders.0', 'orders.2']), undefined);
    assert.equal(n.partitionsFromSubjects('orders', ['orders.>']), undefined);
    assert.equal(n.partitionsFromSubjects('orders', ['orders.01']), undefined);
    assert.equal(n.partitionsFromSubjects('orders', []), undefined);
  });
});
