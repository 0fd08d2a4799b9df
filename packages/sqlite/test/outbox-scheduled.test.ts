import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { decodeRecord, DELIVER_AT_ATTRIBUTE, memory, type Transport } from '@herald/core';
import { delay, tempFolder, waitFor } from '@herald/core/testing';
import { sqliteOutbox } from '../src/outbox.ts';
import { outboxRelay, type OutboxRelay } from '../src/relay.ts';
import { collect, numberedEvent } from './fixtures/numbered-events.ts';

// Scheduled rows: an event due later is held in `<table>_scheduled` and the relay publishes it once due.

const Reminder = numberedEvent('Reminder', 'reminders');

const relays: OutboxRelay[] = [];
const transports: Transport[] = [];
after(async () => {
  await Promise.all(relays.map((relay) => relay.close()));
  await Promise.all(transports.map((transport) => transport.close()));
});
// Removed after the file's tests, once the relays above are closed.
const folder = tempFolder('herald-scheduled-');

/** An outbox in a fresh database, its relay to a memory transport, and what a group receives from it. */
async function setup(relayOptions: { pollIntervalMs?: number; lease?: false } = {}, file = ':memory:') {
  const db = new Database(file);
  const outbox = sqliteOutbox({ db, source: '/test/scheduled' });
  const transport = memory();
  transports.push(transport);
  const { received, subscription } = collect(transport, 'reminders');
  await subscription.ready;
  const relay = outboxRelay({
    outbox,
    transport,
    pollIntervalMs: 50,
    onError: () => undefined,
    ...relayOptions,
  });
  relays.push(relay);
  return { db, outbox, relay, received };
}

describe('sqlite outbox: scheduled rows', () => {
  it('holds a delayed event until it is due, then publishes it once, deliverat still on it', async () => {
    const { outbox, relay, received } = await setup();
    relay.start();
    const event = outbox.emit(Reminder, { key: 'a', n: 1 }, { delay: 600 });
    const due = Date.parse(event.extensions![DELIVER_AT_ATTRIBUTE]!);
    assert.equal(outbox.scheduled(), 1);
    assert.equal(outbox.pending(), 0, 'not in the outbox table');
    await delay(150);
    assert.equal(received.length, 0, 'not published before it is due');
    assert.equal(outbox.scheduled(), 1);
    await waitFor(() => received.length > 0, 5000, 'the reminder');
    assert.ok(received[0]!.at >= due, `received ${received[0]!.at - due} ms after its due time`);
    assert.equal(received[0]!.id, event.id);
    assert.equal(received[0]!.deliverat, event.extensions![DELIVER_AT_ATTRIBUTE]);
    await delay(300);
    assert.equal(received.length, 1, 'published once');
    assert.equal(outbox.scheduled(), 0);
    assert.equal(outbox.pending(), 0);
  });

  it('does not hold back an unscheduled event of the same key emitted after a held one', async () => {
    const { outbox, relay, received } = await setup();
    relay.start();
    outbox.emit(Reminder, { key: 'a', n: 1 }, { delay: 1500 });
    outbox.emit(Reminder, { key: 'a', n: 2 });
    await waitFor(() => received.length > 0, 5000, 'the unscheduled event');
    assert.deepEqual(
      received.map((r) => r.n),
      [2],
    );
    assert.equal(outbox.scheduled(), 1, 'the first is still held');
    await waitFor(() => received.length === 2, 5000, 'the held event');
    assert.deepEqual(
      received.map((r) => r.n),
      [2, 1],
    );
  });

  it('keeps no held row of a transaction that rolled back', async () => {
    const { db, outbox } = await setup();
    assert.throws(
      db.transaction(() => {
        outbox.emit(Reminder, { key: 'a', n: 1 }, { delay: 60_000 });
        assert.equal(outbox.scheduled(), 1, 'held inside the transaction');
        throw new Error('rollback');
      }),
      /rollback/,
    );
    assert.equal(outbox.scheduled(), 0);
    assert.equal(outbox.pending(), 0);
    db.transaction(() => outbox.emit(Reminder, { key: 'a', n: 2 }, { delay: 60_000 }))();
    assert.equal(outbox.scheduled(), 1, 'a committed one stays');
  });

  it('publishes an event whose deliverAt is in the past at once', async () => {
    const { outbox, relay, received } = await setup({ pollIntervalMs: 60_000 });
    const deliverAt = new Date(Date.now() - 60_000);
    outbox.emit(Reminder, { key: 'a', n: 1 }, { deliverAt });
    assert.equal(outbox.scheduled(), 0, 'not held');
    assert.equal(outbox.pending(), 1);
    relay.start();
    await relay.flush(5000);
    await waitFor(() => received.length === 1, 5000, 'the event');
    assert.equal(received[0]!.deliverat, deliverAt.toISOString());
  });

  it('wakes at the due time, not at its next poll', async () => {
    const { outbox, relay, received } = await setup({ pollIntervalMs: 60_000 });
    relay.start();
    await delay(20); // idle, waiting on the poll timer
    const started = Date.now();
    outbox.emit(Reminder, { key: 'a', n: 1 }, { delay: 300 });
    await waitFor(() => received.length === 1, 5000, 'the event');
    const took = received[0]!.at - started;
    assert.ok(took >= 300 && took < 4000, `published after ${took} ms`);
  });

  it('flush does not wait for rows not due yet', async () => {
    const { outbox, relay, received } = await setup();
    outbox.emit(Reminder, { key: 'a', n: 1 }, { delay: 60_000 });
    outbox.emit(Reminder, { key: 'b', n: 2 });
    relay.start();
    await relay.flush(5000);
    assert.equal(outbox.pending(), 0);
    assert.equal(outbox.scheduled(), 1);
    await waitFor(() => received.length === 1, 5000, 'the unscheduled event');
    assert.equal(received[0]!.n, 2);
  });

  it('flush waits for a held row that is due, even one written by another connection', async () => {
    const file = join(folder, 'service.db');
    const { db, outbox, relay, received } = await setup({ pollIntervalMs: 60_000, lease: false }, file);
    db.pragma('journal_mode = WAL');
    relay.start();
    await delay(20); // idle until its next poll, a minute away
    const other = new Database(file);
    sqliteOutbox({ db: other, source: '/other' }).emit(Reminder, { key: 'a', n: 1 }, { delay: 100 });
    other.close();
    await waitFor(() => outbox.nextDueInMs() === 0, 5000, 'the due time');
    assert.equal(outbox.scheduled(), 1, 'no relay woke for it');
    await relay.flush(5000);
    assert.equal(outbox.scheduled(), 0, 'flush waited for it');
    assert.equal(outbox.pending(), 0);
    await waitFor(() => received.length === 1, 5000, 'the event');
  });

  it('a move that fails half-way leaves every row held, and the relay moves them once it can', async () => {
    const { db, outbox, relay, received } = await setup();
    const deliverAt = new Date(Date.now() + 100);
    for (let n = 0; n < 3; n++) outbox.emit(Reminder, { key: 'a', n }, { deliverAt });
    // The insert into the outbox table, after the first delete from the scheduled one, fails.
    db.exec(
      `CREATE TRIGGER refuse BEFORE INSERT ON ${outbox.table} BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
    );
    await waitFor(() => outbox.nextDueInMs() === 0, 5000, 'the due time');
    assert.throws(() => outbox.releaseDue(10), /disk full/);
    assert.equal(outbox.scheduled(), 3, 'still held');
    assert.equal(outbox.pending(), 0);
    relay.start();
    await delay(150);
    assert.equal(relay.stats.consecutiveFailures > 0, true, 'the relay retries');
    assert.equal(outbox.scheduled(), 3);
    db.exec('DROP TRIGGER refuse');
    await waitFor(() => received.length === 3, 5000, 'the three events');
    assert.equal(outbox.scheduled(), 0);
  });

  it('releaseDue moves only due rows, oldest due time first, each to exactly one table', async () => {
    const db = new Database(':memory:');
    const outbox = sqliteOutbox({ db, source: '/test/scheduled' });
    const soon = Date.now() + 200;
    outbox.emit(Reminder, { key: 'a', n: 1 }, { deliverAt: new Date(soon + 20) });
    outbox.emit(Reminder, { key: 'b', n: 2 }, { deliverAt: new Date(soon) });
    outbox.emit(Reminder, { key: 'c', n: 3 }, { deliverAt: new Date(soon + 10) });
    outbox.emit(Reminder, { key: 'd', n: 4 }, { delay: 60_000 });
    assert.equal(outbox.releaseDue(10), 0, 'nothing due yet');
    const next = outbox.nextDueInMs();
    assert.ok(next !== undefined && next > 0 && next <= 200, `next due in ${next} ms`);
    await waitFor(() => outbox.nextDueInMs() === 0, 5000, 'the first due time');
    await waitFor(() => Date.now() > soon + 20, 5000, 'the third due time');
    assert.equal(outbox.releaseDue(2), 2);
    assert.equal(outbox.pending() + outbox.scheduled(), 4);
    assert.equal(outbox.releaseDue(10), 1);
    assert.equal(outbox.pending(), 3);
    assert.equal(outbox.scheduled(), 1, 'the one due in a minute');
    assert.deepEqual(
      outbox.peek(10).map((row) => (decodeRecord(row.record).data as { n: number }).n),
      [2, 3, 1],
    );
    assert.throws(() => outbox.releaseDue(0), { code: 'HERALD_CONFIG' });
  });
});
