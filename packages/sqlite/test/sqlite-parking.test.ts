import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { DeadLetterFailure, StoredRecord } from '@herald/core';
import { SqliteLogStore } from '../src/index.ts';
import { record } from './fixtures/records.ts';
import { tempDb } from './fixtures/temp-db.ts';

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function open(path?: string): SqliteLogStore {
  let dbPath = path;
  if (dbPath === undefined) {
    const db = tempDb();
    cleanups.push(db.remove);
    dbPath = db.path;
  }
  const store = new SqliteLogStore({ path: dbPath, partitions: 2 });
  cleanups.push(() => store.close());
  return store;
}

async function appendAndRead(store: SqliteLogStore, keys: string[]): Promise<StoredRecord[]> {
  await store.append(keys.map((k, i) => record('orders', k, `e${i}`)));
  return [...(await store.read('orders', 0, 0n, 100)), ...(await store.read('orders', 1, 0n, 100))];
}

const failure: DeadLetterFailure = {
  error: { name: 'Error', message: 'boom', code: 'HERALD_HANDLER', stack: 'Error: boom\n    at handler' },
  attempts: 3,
  reason: 'max-attempts',
};
const both = [
  { topic: 'orders', partition: 0 },
  { topic: 'orders', partition: 1 },
];

describe('sqlite log store: parking', () => {
  it('parks copies per group, lists them in park order, reschedules in place and unparks', async () => {
    const store = open();
    const records = await appendAndRead(store, ['a', 'b', 'c', 'd']);
    const now = Date.now();
    for (const [i, r] of records.entries()) {
      await store.park('g1', r, 2, now + 1000 * (records.length - i), { name: 'Error', message: `e${i}` });
    }
    await store.park('g2', records[0]!, 2, now);
    const parked = await store.parked('g1', both);
    assert.deepEqual(
      parked.map((p) => p.record.attributes.id),
      records.map((r) => r.attributes.id),
    );
    assert.ok(parked.every((p, i) => i === 0 || p.parkId > parked[i - 1]!.parkId));
    assert.deepEqual(parked[0]!.record, records[0]);
    assert.equal(parked[0]!.group, 'g1');
    assert.equal(parked[0]!.attempt, 2);
    assert.equal(parked[0]!.dueAt, now + 4000);
    const onlyFirst = await store.parked('g1', [{ topic: 'orders', partition: records[0]!.partition }]);
    assert.ok(onlyFirst.every((p) => p.record.partition === records[0]!.partition));

    await store.reschedule(parked[0]!.parkId, 3, now + 10);
    const rescheduled = await store.parked('g1', both);
    assert.equal(rescheduled[0]!.parkId, parked[0]!.parkId, 'it keeps its place');
    assert.equal(rescheduled[0]!.attempt, 3);
    assert.equal(rescheduled[0]!.dueAt, now + 10);

    await store.unpark(parked[0]!.parkId);
    assert.equal((await store.parked('g1', both)).length, 3);
    assert.equal((await store.parked('g2', both)).length, 1);
  });

  it('wakes watchers when a record is parked', async () => {
    const store = open();
    const [first] = await appendAndRead(store, ['a']);
    const other = open(store.path);
    let woke = 0;
    other.watch(() => woke++);
    await store.park('g1', first!, 2, Date.now());
    const deadline = Date.now() + 2000;
    while (woke === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
    assert.ok(woke > 0);
  });
});

describe('sqlite log store: dead letters', () => {
  it('stores the record with its failure, lists by group and topic, and gets by id', async () => {
    const store = open();
    const records = await appendAndRead(store, ['a', 'b', 'c']);
    await store.deadLetter('g1', records[0]!, failure);
    await store.deadLetter('g1', records[1]!, failure);
    await store.deadLetter('g2', records[2]!, failure);
    const g1 = await store.listDeadLetters({ group: 'g1' });
    assert.equal(g1.length, 2);
    const dead = g1[0]!;
    assert.match(dead.id, /^[0-9a-f-]{36}$/);
    assert.equal(dead.group, 'g1');
    assert.deepEqual(dead.record, {
      topic: 'orders',
      key: records[0]!.key,
      attributes: records[0]!.attributes,
      data: records[0]!.data,
    });
    assert.equal(dead.partition, records[0]!.partition);
    assert.equal(dead.offset, records[0]!.offset.toString());
    assert.deepEqual(dead.failure, failure);
    assert.ok(Math.abs(Date.parse(dead.deadLetteredAt) - Date.now()) < 5000);
    assert.deepEqual(await store.getDeadLetter(dead.id), dead);
    assert.equal(await store.getDeadLetter('missing'), undefined);
    assert.equal((await store.listDeadLetters({})).length, 3);
    assert.equal((await store.listDeadLetters({ topic: 'payments' })).length, 0);
    assert.equal((await store.listDeadLetters({ limit: 1 })).length, 1);
  });

  it('replays to its own group only: parked for that group, attempt 1, due now, optionally new data', async () => {
    const store = open();
    const [first] = await appendAndRead(store, ['a']);
    await store.deadLetter('failing', first!, failure);
    const [dead] = await store.listDeadLetters({ group: 'failing' });
    const edited = new TextEncoder().encode('{"fixed":true}');
    const before = Date.now();
    await store.replayDeadLetter(dead!.id, { data: edited });
    assert.equal(await store.getDeadLetter(dead!.id), undefined);
    const [parked] = await store.parked('failing', both);
    assert.equal(parked!.attempt, 1);
    assert.ok(parked!.dueAt >= before && parked!.dueAt <= Date.now());
    assert.deepEqual(parked!.record.data, Buffer.from(edited));
    assert.equal(parked!.record.offset, first!.offset);
    assert.equal(parked!.record.attributes.id, first!.attributes.id);
    assert.deepEqual(await store.parked('healthy', both), []);
    await assert.rejects(store.replayDeadLetter(dead!.id), { code: 'HERALD_DEAD_LETTER_NOT_FOUND' });
  });

  it('discards', async () => {
    const store = open();
    const [first] = await appendAndRead(store, ['a']);
    await store.deadLetter('g', first!, failure);
    const [dead] = await store.listDeadLetters({ group: 'g' });
    await store.discardDeadLetter(dead!.id);
    assert.deepEqual(await store.listDeadLetters({ group: 'g' }), []);
    await assert.rejects(store.discardDeadLetter(dead!.id), { code: 'HERALD_DEAD_LETTER_NOT_FOUND' });
  });
});
