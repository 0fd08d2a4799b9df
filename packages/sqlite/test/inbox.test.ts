import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { sqliteInbox } from '../src/inbox.ts';
import { sqliteOutbox } from '../src/outbox.ts';

function setup() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE balances (account TEXT PRIMARY KEY, cents INTEGER NOT NULL)');
  const inbox = sqliteInbox({ db });
  const outbox = sqliteOutbox({ db, source: '/test/ledger' });
  const deposit = db.prepare<[string, number]>(
    'INSERT INTO balances (account, cents) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET cents = cents + excluded.cents',
  );
  const balance = (account: string) =>
    (db.prepare('SELECT cents FROM balances WHERE account = ?').get(account) as { cents: number } | undefined)
      ?.cents;
  return { db, inbox, outbox, deposit, balance };
}

describe('sqlite inbox', () => {
  it('runs the work once and ignores duplicates', () => {
    const { inbox, deposit, balance } = setup();
    let runs = 0;
    const work = () => {
      runs++;
      deposit.run('acc-1', 100);
    };
    assert.equal(inbox.once('ledger', 'evt-1', work), true);
    assert.equal(inbox.once('ledger', 'evt-1', work), false);
    assert.equal(runs, 1);
    assert.equal(balance('acc-1'), 100);
    assert.equal(inbox.has('ledger', 'evt-1'), true);
    assert.equal(
      inbox.once('audit', 'evt-1', () => undefined),
      true,
      'another group handles it on its own',
    );
  });

  it('records nothing when the work throws, so a redelivery runs it again', () => {
    const { inbox, deposit, balance } = setup();
    assert.throws(() =>
      inbox.once('ledger', 'evt-1', () => {
        deposit.run('acc-1', 100);
        throw new Error('crash after the write');
      }),
    );
    assert.equal(balance('acc-1'), undefined, 'the write rolled back with the inbox record');
    assert.equal(inbox.has('ledger', 'evt-1'), false);
    assert.equal(
      inbox.once('ledger', 'evt-1', () => deposit.run('acc-1', 100)),
      true,
    );
    assert.equal(balance('acc-1'), 100);
  });

  it('becomes a savepoint of an outer transaction', () => {
    const { db, inbox, deposit, balance } = setup();
    assert.throws(
      db.transaction(() => {
        inbox.once('ledger', 'evt-1', () => deposit.run('acc-1', 100));
        throw new Error('outer rollback');
      }),
    );
    assert.equal(balance('acc-1'), undefined);
    assert.equal(inbox.has('ledger', 'evt-1'), false);
  });

  it('runOnce (core Inbox) runs concurrent duplicates once and records after success', async () => {
    const { inbox } = setup();
    let runs = 0;
    const work = async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    };
    const results = await Promise.all([
      inbox.runOnce('mailer', 'evt-9', work),
      inbox.runOnce('mailer', 'evt-9', work),
    ]);
    assert.deepEqual(results.sort(), [false, true]);
    assert.equal(runs, 1);
    await assert.rejects(inbox.runOnce('mailer', 'evt-10', () => Promise.reject(new Error('smtp down'))));
    assert.equal(inbox.has('mailer', 'evt-10'), false);
  });

  it('prunes old records', () => {
    const { inbox } = setup();
    inbox.once('g', 'old', () => undefined);
    assert.equal(inbox.prune(new Date(Date.now() + 1000)), 1);
    assert.equal(inbox.has('g', 'old'), false);
  });
});
