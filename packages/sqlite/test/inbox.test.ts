import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { createEvent, decodeRecord, defineEvent, ErrorCodes, type CloudEvent } from '@herald/core';
import { sqliteInbox, unitOfWork } from '../src/inbox.ts';
import { sqliteOutbox } from '../src/outbox.ts';

const Deposited = defineEvent({
  type: 'Deposited',
  topic: 'accounts',
  schema: z.object({ account: z.string(), cents: z.number().int().positive() }),
  key: (data) => data.account,
});
const BalanceChanged = defineEvent({
  type: 'BalanceChanged',
  topic: 'balances',
  schema: z.object({ account: z.string(), balance: z.number().int() }),
  key: (data) => data.account,
});

function setup() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE balances (account TEXT PRIMARY KEY, cents INTEGER NOT NULL)');
  const inbox = sqliteInbox({ db });
  const outbox = sqliteOutbox({ db, source: '/test/ledger' });
  const uow = unitOfWork({ inbox, outbox });
  const deposit = db.prepare<[string, number]>(
    'INSERT INTO balances (account, cents) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET cents = cents + excluded.cents',
  );
  const balance = (account: string) =>
    (db.prepare('SELECT cents FROM balances WHERE account = ?').get(account) as { cents: number } | undefined)
      ?.cents;
  return { db, inbox, outbox, uow, deposit, balance };
}

const deposited = async (cents: number) =>
  (await createEvent('/test/bank', Deposited, { account: 'acc-1', cents })) as CloudEvent<{
    account: string;
    cents: number;
  }>;

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

  it('unit of work: state, inbox record and follow-up events commit together, with lineage', async () => {
    const { outbox, uow, deposit, balance } = setup();
    const event = await deposited(250);
    const work = (uow2: Parameters<Parameters<typeof uow.run>[2]>[0]) => {
      const { account, cents } = event.data;
      deposit.run(account, cents);
      uow2.emit(BalanceChanged, { account, balance: balance(account)! });
    };
    assert.equal(uow.run('ledger', event, work), true);
    assert.equal(uow.run('ledger', event, work), false, 'a redelivery changes nothing');
    assert.equal(balance('acc-1'), 250);
    const rows = outbox.peek(10);
    assert.equal(rows.length, 1);
    const followUp = decodeRecord(rows[0]!.record);
    assert.equal(followUp.type, 'BalanceChanged');
    assert.equal(followUp.source, '/test/ledger');
    assert.equal(followUp.causationid, event.id);
    assert.equal(followUp.correlationid, event.correlationid);
    assert.deepEqual(followUp.data, { account: 'acc-1', balance: 250 });
  });

  it('unit of work: a throw after emitting rolls back the state, the inbox record and the events', async () => {
    const { outbox, inbox, uow, deposit, balance } = setup();
    const event = await deposited(250);
    assert.throws(
      () =>
        uow.run('ledger', event, (u) => {
          deposit.run('acc-1', 250);
          u.emit(BalanceChanged, { account: 'acc-1', balance: 250 });
          u.emit(BalanceChanged, { account: 'acc-1', balance: -1.5 }); // invalid: not an integer
        }),
      { code: ErrorCodes.VALIDATION },
    );
    assert.equal(balance('acc-1'), undefined);
    assert.equal(outbox.pending(), 0);
    assert.equal(inbox.has('ledger', event.id), false);
  });

  it('unit of work: handler() uses the router group and ignores redeliveries', async () => {
    const { uow, deposit, balance } = setup();
    const handler = uow.handler<typeof Deposited>((event) => {
      deposit.run(event.data.account, event.data.cents);
    });
    const event = await deposited(10);
    const context = { group: 'ledger' } as Parameters<typeof handler>[1];
    await handler(event, context);
    await handler(event, context);
    assert.equal(balance('acc-1'), 10);
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

  it('refuses an outbox on another connection', () => {
    const a = setup();
    const b = setup();
    assert.throws(() => unitOfWork({ inbox: a.inbox, outbox: b.outbox }), { code: ErrorCodes.CONFIG });
  });
});
