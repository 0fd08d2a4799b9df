import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEvent, DELIVER_AT_ATTRIBUTE, encodeEvent } from '@herald/core';
import { delay, waitFor } from '@herald/core/testing';
import { transaction, type PostgresOutbox } from '../src/index.ts';
import { skipUnlessDatabase } from './helpers.ts';
import { collect, numberedEvent } from './fixtures/numbered-events.ts';
import { outboxSuite } from './fixtures/outbox-suite.ts';

// Scheduled rows: an event due later is held in `<schema>.scheduled` and a relay publishes it once due.

const Reminder = numberedEvent('Reminder', 'reminders');

describe('postgres outbox: scheduled rows', { skip: skipUnlessDatabase }, () => {
  const suite = outboxSuite({ source: '/test/scheduled', pollIntervalMs: 100 });
  const { relay } = suite;

  /** A fresh schema with its outbox, a memory transport and what a group receives of `reminders` on it. */
  async function setup(prefix: string) {
    const created = await suite.setup(prefix);
    const bus = suite.transport(4);
    const { received, subscription } = collect(bus, 'reminders');
    await subscription.ready;
    return { ...created, bus, received };
  }

  async function emit(
    outbox: PostgresOutbox,
    data: { key: string; n: number },
    options: { delay?: number; deliverAt?: Date } = {},
  ) {
    return transaction(outbox.pool, (client) => outbox.emit(client, Reminder, data, options));
  }

  it('holds a delayed event until it is due, then publishes it once, deliverat still on it', async () => {
    const { outbox, bus, received } = await setup('held');
    await relay({ outbox, transport: bus }).start();
    const event = await emit(outbox, { key: 'a', n: 1 }, { delay: 600 });
    const due = Date.parse(event.extensions![DELIVER_AT_ATTRIBUTE]!);
    assert.equal(await outbox.scheduled(), 1);
    assert.equal(await outbox.pending(), 0, 'not in the outbox table');
    await delay(150);
    assert.equal(received.length, 0, 'not published before it is due');
    assert.equal(await outbox.scheduled(), 1);
    await waitFor(() => received.length > 0, 5000, 'the reminder');
    assert.ok(received[0]!.at >= due, `received ${received[0]!.at - due} ms after its due time`);
    assert.equal(received[0]!.id, event.id);
    assert.equal(received[0]!.deliverat, event.extensions![DELIVER_AT_ATTRIBUTE]);
    await delay(300);
    assert.equal(received.length, 1, 'published once');
    assert.equal(await outbox.scheduled(), 0);
    assert.equal(await outbox.pending(), 0);
  });

  it('does not hold back an unscheduled event of the same key emitted after a held one', async () => {
    const { outbox, bus, received } = await setup('key');
    await relay({ outbox, transport: bus }).start();
    await emit(outbox, { key: 'a', n: 1 }, { delay: 1500 });
    await emit(outbox, { key: 'a', n: 2 });
    await waitFor(() => received.length > 0, 5000, 'the unscheduled event');
    assert.deepEqual(
      received.map((r) => r.n),
      [2],
    );
    assert.equal(await outbox.scheduled(), 1, 'the first is still held');
    await waitFor(() => received.length === 2, 5000, 'the held event');
    assert.deepEqual(
      received.map((r) => r.n),
      [2, 1],
    );
  });

  it('keeps no held row of a transaction that rolled back', async () => {
    const { outbox } = await setup('rollback');
    await assert.rejects(
      transaction(outbox.pool, async (client) => {
        await outbox.emit(client, Reminder, { key: 'a', n: 1 }, { delay: 60_000 });
        const inside = await client.query<{ n: string }>(
          `SELECT count(*) AS n FROM "${outbox.schema}".scheduled`,
        );
        assert.equal(inside.rows[0]!.n, '1', 'held inside the transaction');
        throw new Error('rollback');
      }),
      /rollback/,
    );
    assert.equal(await outbox.scheduled(), 0);
    assert.equal(await outbox.pending(), 0);
    await emit(outbox, { key: 'a', n: 2 }, { delay: 60_000 });
    assert.equal(await outbox.scheduled(), 1, 'a committed one stays');
  });

  it('publishes an event whose deliverAt is in the past at once', async () => {
    const { outbox, bus, received } = await setup('past');
    const deliverAt = new Date(Date.now() - 60_000);
    await emit(outbox, { key: 'a', n: 1 }, { deliverAt });
    assert.equal(await outbox.scheduled(), 0, 'not held');
    assert.equal(await outbox.pending(), 1);
    const relayed = relay({ outbox, transport: bus, pollIntervalMs: 60_000 });
    await relayed.start();
    await relayed.flush(5000);
    await waitFor(() => received.length === 1, 5000, 'the event');
    assert.equal(received[0]!.deliverat, deliverAt.toISOString());
  });

  it('stores a mixed addRecords batch in one statement, even on the pool', async () => {
    const { outbox } = await setup('mixed');
    const later = await createEvent('/test', Reminder, { key: 'a', n: 1 }, { delay: 60_000 });
    const now = await createEvent('/test', Reminder, { key: 'a', n: 2 });
    await outbox.addRecords(outbox.pool, [encodeEvent('reminders', later), encodeEvent('reminders', now)]);
    assert.equal(await outbox.scheduled(), 1);
    assert.equal(await outbox.pending(), 1);
    const [row] = await outbox.peek(10);
    assert.equal(row!.record.attributes.id, now.id);
  });

  it('wakes on the commit of a held row and at its due time, not at its next poll', async () => {
    const { outbox, bus, received } = await setup('wake');
    await relay({ outbox, transport: bus, pollIntervalMs: 60_000 }).start();
    await delay(50); // idle, waiting on the poll timer
    const started = Date.now();
    await emit(outbox, { key: 'a', n: 1 }, { delay: 300 });
    await waitFor(() => received.length === 1, 5000, 'the event');
    const took = received[0]!.at - started;
    assert.ok(took >= 300 && took < 4000, `published after ${took} ms`);
  });

  it('flush does not wait for rows not due yet, and waits for held rows that are due', async () => {
    const { outbox, bus, received } = await setup('flush');
    await emit(outbox, { key: 'a', n: 1 }, { delay: 60_000 });
    await emit(outbox, { key: 'b', n: 2 });
    // No LISTEN and a poll a minute away: only flush makes this relay look at the held rows again.
    const relayed = relay({ outbox, transport: bus, pollIntervalMs: 60_000, listen: false });
    await relayed.start();
    await relayed.flush(5000);
    assert.equal(await outbox.pending(), 0);
    assert.equal(await outbox.scheduled(), 1);
    await emit(outbox, { key: 'c', n: 3 }, { delay: 100 });
    await waitFor(async () => (await outbox.nextDueInMs()) === 0, 5000, 'the due time');
    assert.equal(await outbox.scheduled(), 2, 'no relay looked at it yet');
    await relayed.flush(5000);
    assert.equal(await outbox.scheduled(), 1, 'flush waited for the due one');
    assert.equal(await outbox.pending(), 0);
    await waitFor(() => received.length === 2, 5000, 'both unheld events');
    assert.deepEqual(received.map((r) => r.n).sort(), [2, 3]);
  });

  it('releases each of 60 held rows exactly once with two relays running concurrently', async () => {
    const { outbox, open, bus, received } = await setup('two');
    const n = 60;
    // Due 2.0-2.55 s from now, in transactions of up to 4 rows: far enough that none is due before every row is
    // written, even on a loaded machine (a row due in the past goes straight to the outbox, not held).
    const base = Date.now() + 2000;
    for (let i = 0; i < n; i += 4) {
      await transaction(outbox.pool, async (client) => {
        for (let j = i; j < Math.min(n, i + 4); j++) {
          await outbox.emit(
            client,
            Reminder,
            { key: `k${j % 7}`, n: j },
            { deliverAt: new Date(base + (j % 12) * 50) },
          );
        }
      });
    }
    assert.equal(await outbox.scheduled(), n);
    const options = { transport: bus, batchSize: 5, pollIntervalMs: 50 };
    const relayA = relay({ outbox: await open(), ...options });
    const relayB = relay({ outbox: await open(), ...options });
    await Promise.all([relayA.start(), relayB.start()]);
    await waitFor(() => received.length >= n, 10_000, `${n} events`);
    await waitFor(
      async () => (await outbox.scheduled()) + (await outbox.pending()) === 0,
      5000,
      'empty tables',
    );
    await delay(300);
    assert.equal(received.length, n, 'nothing published twice');
    assert.equal(new Set(received.map((r) => r.id)).size, n);
    assert.deepEqual(
      received.map((r) => r.n).sort((a, b) => a - b),
      Array.from({ length: n }, (_, i) => i),
    );
    assert.equal(relayA.stats.published + relayB.stats.published, n);
    for (const r of received) assert.ok(r.at >= Date.parse(r.deliverat!), 'none before its due time');
  });

  it('releaseDue called concurrently from two pools moves each due row once', async () => {
    const { outbox, open } = await setup('race');
    const other = await open();
    const n = 40;
    // Far enough that every row is written before any is due, even on a loaded machine.
    const deliverAt = new Date(Date.now() + 2000);
    await transaction(outbox.pool, async (client) => {
      for (let i = 0; i < n; i++)
        await outbox.emit(client, Reminder, { key: `k${i % 5}`, n: i }, { deliverAt });
    });
    assert.equal(await outbox.releaseDue(100), 0, 'nothing due yet');
    await waitFor(async () => (await outbox.nextDueInMs()) === 0, 5000, 'the due time');
    const moved = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? outbox : other).releaseDue(3)),
    );
    let total = moved.reduce((sum, m) => sum + m, 0);
    while (total < n) {
      const more = await other.releaseDue(100);
      assert.ok(more > 0, 'the rest is due and unlocked');
      total += more;
    }
    assert.equal(total, n);
    assert.equal(await outbox.pending(), n, 'each row once in the outbox');
    assert.equal(await outbox.scheduled(), 0);
    const ids = (await outbox.peek(100)).map((row) => row.record.attributes.id);
    assert.equal(new Set(ids).size, n);
    await assert.rejects(outbox.releaseDue(0), { code: 'HERALD_CONFIG' });
  });

  it('a move that fails half-way leaves every row held, and the next one moves them', async () => {
    const { schema, outbox } = await setup('atomic');
    const s = `"${schema}"`;
    // Far enough that all three are held before any is due, even on a loaded machine.
    const deliverAt = new Date(Date.now() + 1500);
    for (let i = 0; i < 3; i++) await emit(outbox, { key: 'a', n: i }, { deliverAt });
    // The insert into the outbox table, after the delete from the scheduled one, fails.
    await outbox.pool.query(`CREATE FUNCTION ${s}.refuse() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`);
    await outbox.pool.query(
      `CREATE TRIGGER refuse BEFORE INSERT ON ${s}.outbox FOR EACH ROW EXECUTE FUNCTION ${s}.refuse()`,
    );
    await waitFor(async () => (await outbox.nextDueInMs()) === 0, 5000, 'the due time');
    await assert.rejects(outbox.releaseDue(10), { code: 'HERALD_TRANSPORT', message: /disk full/ });
    assert.equal(await outbox.scheduled(), 3, 'still held');
    assert.equal(await outbox.pending(), 0);
    await outbox.pool.query(`DROP TRIGGER refuse ON ${s}.outbox`);
    assert.equal(await outbox.releaseDue(10), 3);
    assert.equal(await outbox.scheduled(), 0);
    assert.equal(await outbox.pending(), 3);
  });

  it('adds the scheduled table to a schema made before it existed', async () => {
    const { schema, outbox, open } = await setup('upgrade');
    await outbox.pool.query(`DROP TABLE "${schema}".scheduled`);
    const reopened = await open();
    assert.equal(await reopened.scheduled(), 0);
    await emit(reopened, { key: 'a', n: 1 }, { delay: 60_000 });
    assert.equal(await reopened.scheduled(), 1);
  });
});
