import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DELIVER_AT_ATTRIBUTE, partitionFor } from '@herald/core';
import { dueRecord, record } from './fixtures/records.ts';
import { logStores } from './fixtures/log-stores.ts';
import { tempDb } from './fixtures/temp-db.ts';

const { open, onCleanup } = logStores();

async function allIds(store: ReturnType<typeof open>, topic: string, partitions = 4): Promise<string[]> {
  const ids: string[] = [];
  for (let p = 0; p < partitions; p++) {
    for (const r of await store.read(topic, p, 0n, 10_000)) ids.push(r.attributes.id!);
  }
  return ids;
}

describe('sqlite log store: scheduled records', () => {
  it('holds a record due later (no offset yet), and appends it once it is released', async () => {
    const store = open();
    const due = Date.now() + 60_000;
    const [keyed, keyless] = await store.append([
      dueRecord('t', 'k', 'held', due),
      dueRecord('t', undefined, 'held-keyless', due),
    ]);
    assert.deepEqual(keyed, {
      topic: 't',
      partition: partitionFor('k', 4),
      offset: '-1',
      deliverAt: new Date(due).toISOString(),
    });
    assert.equal(keyless!.partition, -1, 'a keyless record gets its partition when released');
    assert.deepEqual(await allIds(store, 't'), [], 'nothing in the log yet');
    assert.equal(await store.scheduledCount(), 2);

    assert.deepEqual(await store.releaseDue(due - 1, 10), { released: 0, nextDue: due });
    assert.deepEqual(await store.releaseDue(due, 10), { released: 2, nextDue: undefined });
    const [stored] = await store.read('t', partitionFor('k', 4), 0n, 10);
    assert.equal(stored!.attributes.id, 'held');
    assert.equal(stored!.offset, 0n);
    assert.equal(
      stored!.attributes[DELIVER_AT_ATTRIBUTE],
      new Date(due).toISOString(),
      'still says when due',
    );
    assert.deepEqual((await allIds(store, 't')).sort(), ['held', 'held-keyless']);
    assert.equal(await store.scheduledCount(), 0);
    assert.equal((await store.releaseDue(due + 1000, 10)).released, 0, 'released once');
  });

  it('appends a record due now or earlier at once, in order with the rest of its call', async () => {
    const store = open({ partitions: 1 });
    const receipts = await store.append([
      record('t', 'k', 'a'),
      dueRecord('t', 'k', 'past', Date.now() - 1000),
      record('t', 'k', 'b'),
    ]);
    assert.deepEqual(
      receipts.map((r) => r.offset),
      ['0', '1', '2'],
    );
    assert.deepEqual(await allIds(store, 't', 1), ['a', 'past', 'b']);
    assert.equal(await store.scheduledCount(), 0);
  });

  it('releases earliest due first, at most the limit per call, and reports the next due time', async () => {
    const store = open({ partitions: 1 });
    const t = Date.now() + 60_000;
    await store.append([dueRecord('t', 'k', 'c', t + 30), dueRecord('t', 'k', 'a', t + 10)]);
    await store.append([dueRecord('t', 'k', 'b', t + 20)]);
    assert.deepEqual(await store.releaseDue(t + 100, 2), { released: 2, nextDue: t + 30 });
    assert.deepEqual(await allIds(store, 't', 1), ['a', 'b']);
    assert.deepEqual(await store.releaseDue(t + 100, 2), { released: 1, nextDue: undefined });
    assert.deepEqual(await allIds(store, 't', 1), ['a', 'b', 'c']);
  });

  it('keeps held records across a restart', async () => {
    const db = tempDb();
    onCleanup(db.remove);
    const due = Date.now() + 60_000;
    const first = open({}, db.path);
    await first.append([dueRecord('t', 'k', 'kept', due)]);
    await first.close();
    const second = open({}, db.path);
    assert.equal(await second.scheduledCount(), 1);
    assert.deepEqual(await second.releaseDue(due, 10), { released: 1, nextDue: undefined });
    assert.deepEqual(await allIds(second, 't'), ['kept']);
  });

  it('releases each record once when two stores on the file release at the same time', async () => {
    const db = tempDb();
    onCleanup(db.remove);
    const [a, b] = [open({}, db.path), open({}, db.path)];
    const due = Date.now() + 60_000;
    const n = 600;
    await a.append(Array.from({ length: n }, (_, i) => dueRecord('t', `k${i % 7}`, `e${i}`, due + (i % 5))));
    // Interleaved batches from both connections, each a transaction that takes what it appends.
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).releaseDue(due + 10, 100)),
    );
    const released = results.reduce((sum, r) => sum + r.released, 0);
    assert.equal(released, n);
    const ids = await allIds(a, 't');
    assert.equal(ids.length, n, 'every record appended');
    assert.equal(new Set(ids).size, n, 'none twice');
    assert.equal(await b.scheduledCount(), 0);
  });
});
