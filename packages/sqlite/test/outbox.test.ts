import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { z } from 'zod';
import {
  createEvent,
  decodeRecord,
  defineEvent,
  ErrorCodes,
  runHandling,
  type CloudEvent,
} from '@herald/core';
import { sqliteOutbox } from '../src/outbox.ts';

const ItemAdded = defineEvent({
  type: 'ItemAdded',
  topic: 'items',
  schema: z.object({ itemId: z.string(), quantity: z.number().int().positive() }),
  key: (data) => data.itemId,
});

function setup() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE items (id TEXT PRIMARY KEY, quantity INTEGER NOT NULL)');
  const outbox = sqliteOutbox({ db, source: '/test/items' });
  const insertItem = db.prepare<[string, number]>('INSERT INTO items (id, quantity) VALUES (?, ?)');
  const items = () => (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;
  return { db, outbox, insertItem, items };
}

describe('sqlite outbox', () => {
  it('commits the event with the business row', async () => {
    const { db, outbox, insertItem, items } = setup();
    const event = await createEvent('/test/items', ItemAdded, { itemId: 'a', quantity: 2 });
    db.transaction(() => {
      insertItem.run('a', 2);
      outbox.add(ItemAdded.topic, event);
    })();
    assert.equal(items(), 1);
    assert.equal(outbox.pending(), 1);
    const [row] = outbox.peek(10);
    assert.equal(row!.record.topic, 'items');
    assert.equal(row!.record.key, 'a');
    assert.deepEqual(decodeRecord(row!.record), event);
  });

  it('drops both the business row and the event when the transaction rolls back', () => {
    const { db, outbox, insertItem, items } = setup();
    assert.throws(
      db.transaction(() => {
        insertItem.run('a', 2);
        outbox.emit(ItemAdded, { itemId: 'a', quantity: 2 });
        throw new Error('business rule failed after the writes');
      }),
      /business rule failed/,
    );
    assert.equal(items(), 0);
    assert.equal(outbox.pending(), 0);
  });

  it('validates emitted data synchronously, so invalid data rolls the transaction back', () => {
    const { db, outbox, insertItem, items } = setup();
    assert.throws(
      db.transaction(() => {
        insertItem.run('a', 2);
        outbox.emit(ItemAdded, { itemId: 'a', quantity: -1 });
      }),
      (error: { code?: string; message: string }) =>
        error.code === ErrorCodes.VALIDATION && error.message.includes('quantity'),
    );
    assert.equal(items(), 0);
    assert.equal(outbox.pending(), 0);
  });

  it('takes correlation and causation from the event being handled', () => {
    const { outbox } = setup();
    const started = outbox.emit(ItemAdded, { itemId: 'a', quantity: 1 });
    assert.equal(started.correlationid, started.id);
    assert.equal(started.causationid, undefined);
    assert.equal(started.partitionkey, 'a');
    assert.equal(started.subject, 'a');
    const followUp = runHandling(started as CloudEvent, () =>
      outbox.emit(ItemAdded, { itemId: 'b', quantity: 1 }),
    );
    assert.equal(followUp.correlationid, started.id);
    assert.equal(followUp.causationid, started.id);
  });

  it('refuses a schema that validates asynchronously, naming the way out', () => {
    const { outbox } = setup();
    const Slow = defineEvent({
      type: 'Slow',
      topic: 'items',
      schema: z.object({ id: z.string() }).refine(async () => Promise.resolve(true)),
    });
    assert.throws(
      () => outbox.emit(Slow, { id: 'x' }),
      (error: { code?: string; message: string }) =>
        error.code === ErrorCodes.UNSUPPORTED && error.message.includes('outbox.add'),
    );
  });

  it('notifies listeners once per synchronous burst, after the transaction', async () => {
    const { db, outbox } = setup();
    const seen: number[] = [];
    outbox.onAdd(() => seen.push(outbox.pending()));
    db.transaction(() => {
      outbox.emit(ItemAdded, { itemId: 'a', quantity: 1 });
      outbox.emit(ItemAdded, { itemId: 'b', quantity: 1 });
      assert.deepEqual(seen, [], 'not notified inside the transaction');
    })();
    await Promise.resolve();
    assert.deepEqual(seen, [2]);
  });

  it('keeps seq increasing after rows are removed', () => {
    const { outbox } = setup();
    outbox.emit(ItemAdded, { itemId: 'a', quantity: 1 });
    const first = outbox.peek(1)[0]!.seq;
    assert.equal(outbox.remove(first, first), 1);
    outbox.emit(ItemAdded, { itemId: 'a', quantity: 1 });
    assert.ok(outbox.peek(1)[0]!.seq > first);
  });

  it('rejects table names that are not plain identifiers', () => {
    const db = new Database(':memory:');
    assert.throws(() => sqliteOutbox({ db, table: 'x; DROP TABLE y' }), { code: ErrorCodes.CONFIG });
  });
});
