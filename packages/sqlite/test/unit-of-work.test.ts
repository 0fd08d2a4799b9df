import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { z } from 'zod';
import {
  createEvent,
  createRouter,
  decodeRecord,
  defineEvent,
  encodeEvent,
  ErrorCodes,
  memory,
  unitOfWorkHandler,
  type CloudEvent,
} from '@herald/core';
import { waitFor } from '@herald/core/testing';
import { sqliteInbox, sqliteOutbox, sqliteUnitOfWork, type SqliteDatabase } from '../src/index.ts';
import { tempDb } from './fixtures/temp-db.ts';

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

const cleanups: (() => void)[] = [];
after(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
});

/** A service database in a real file (WAL, as services open theirs), with its inbox, outbox and unit of work. */
function setup(path = newFile()) {
  const db = new Database(path, { timeout: 10_000 });
  cleanups.push(() => db.close());
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS balances (account TEXT PRIMARY KEY, cents INTEGER NOT NULL)');
  const inbox = sqliteInbox({ db });
  const outbox = sqliteOutbox({ db, source: '/test/ledger' });
  const unit = sqliteUnitOfWork({ inbox, outbox });
  const deposit = (tx: SqliteDatabase, account: string, cents: number) =>
    tx
      .prepare(
        'INSERT INTO balances (account, cents) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET cents = cents + excluded.cents',
      )
      .run(account, cents);
  const balance = (account: string) =>
    (db.prepare('SELECT cents FROM balances WHERE account = ?').get(account) as { cents: number } | undefined)
      ?.cents;
  return { path, db, inbox, outbox, unit, deposit, balance };
}

function newFile(): string {
  const { path, remove } = tempDb();
  mkdirSync(dirname(path), { recursive: true });
  cleanups.push(remove);
  return path;
}

const deposited = async (cents: number, account = 'acc-1') =>
  (await createEvent('/test/bank', Deposited, { account, cents })) as CloudEvent<{
    account: string;
    cents: number;
  }>;

describe('sqliteUnitOfWork', () => {
  it('commits the state, the inbox record and the emitted events together, with the lineage of the event', async () => {
    const { inbox, outbox, unit, deposit, balance } = setup();
    const event = await deposited(250);
    const ran = await unit.handle('ledger', event, async (tx, { emit, event: handled }) => {
      assert.equal(handled, event);
      deposit(tx, 'acc-1', 250);
      await emit(BalanceChanged, { account: 'acc-1', balance: balance('acc-1')! });
    });
    assert.equal(ran, true);
    assert.equal(balance('acc-1'), 250);
    assert.equal(inbox.has('ledger', event.id), true);
    const rows = outbox.peek(10);
    assert.equal(rows.length, 1);
    const followUp = decodeRecord(rows[0]!.record);
    assert.equal(followUp.type, 'BalanceChanged');
    assert.equal(followUp.source, '/test/ledger');
    assert.equal(followUp.causationid, event.id);
    assert.equal(followUp.correlationid, event.correlationid ?? event.id);
    assert.deepEqual(followUp.data, { account: 'acc-1', balance: 250 });
  });

  it('a handler that throws rolls back its writes, its inbox record and its outbox rows', async () => {
    const { inbox, outbox, unit, deposit, balance } = setup();
    const event = await deposited(250);
    await assert.rejects(
      unit.handle('ledger', event, async (tx, { emit, add }) => {
        deposit(tx, 'acc-1', 250);
        await emit(BalanceChanged, { account: 'acc-1', balance: 250 });
        await add('audit', event);
        throw new Error('crashed before commit');
      }),
      /crashed before commit/,
    );
    assert.equal(balance('acc-1'), undefined);
    assert.equal(outbox.pending(), 0);
    assert.equal(inbox.has('ledger', event.id), false);
    // The redelivery runs it again, for real this time.
    assert.equal(
      await unit.handle('ledger', event, (tx) =>
        Promise.resolve(deposit(tx, 'acc-1', 250)).then(() => undefined),
      ),
      true,
    );
    assert.equal(balance('acc-1'), 250);
  });

  it('an invalid emitted event rolls back the unit with HERALD_VALIDATION', async () => {
    const { outbox, unit, deposit, balance } = setup();
    await assert.rejects(
      unit.run(async (tx, { emit }) => {
        deposit(tx, 'acc-1', 10);
        await emit(BalanceChanged, { account: 'acc-1', balance: 10 });
        await emit(BalanceChanged, { account: 'acc-1', balance: -1.5 });
      }),
      { code: ErrorCodes.VALIDATION },
    );
    assert.equal(balance('acc-1'), undefined);
    assert.equal(outbox.pending(), 0);
  });

  it('run: a command commits its state and events, and resolves with its result', async () => {
    const { outbox, unit, deposit, balance } = setup();
    const result = await unit.run(async (tx, { emit, event }) => {
      assert.equal(event, undefined, 'no event is being handled');
      deposit(tx, 'acc-2', 5);
      await emit(BalanceChanged, { account: 'acc-2', balance: 5 });
      return 'placed';
    });
    assert.equal(result, 'placed');
    assert.equal(balance('acc-2'), 5);
    assert.equal(outbox.pending(), 1);
  });

  it('a duplicate delivery runs the handler once, sequential or concurrent', async () => {
    const { unit, deposit, balance } = setup();
    const event = await deposited(7);
    let runs = 0;
    const work = async (tx: SqliteDatabase) => {
      runs++;
      deposit(tx, 'acc-1', 7);
      await new Promise((resolve) => setImmediate(resolve));
    };
    const concurrent = await Promise.all([
      unit.handle('ledger', event, work),
      unit.handle('ledger', event, work),
    ]);
    assert.deepEqual(concurrent.sort(), [false, true]);
    assert.equal(await unit.handle('ledger', event, work), false, 'a later redelivery changes nothing');
    assert.equal(runs, 1);
    assert.equal(balance('acc-1'), 7);
    assert.equal(
      await unit.handle('audit', event, () => Promise.resolve()),
      true,
      'another group is separate',
    );
  });

  it('units on one connection take turns, even from two unit-of-work objects', async () => {
    const first = setup();
    const second = sqliteUnitOfWork({ inbox: first.inbox, outbox: first.outbox });
    const order: string[] = [];
    await Promise.all([
      first.unit.run(async () => {
        order.push('a:begin');
        await new Promise((resolve) => setTimeout(resolve, 20));
        order.push('a:end');
      }),
      second.run(() => {
        order.push('b:begin');
        order.push('b:end');
        return Promise.resolve();
      }),
    ]);
    assert.deepEqual(order, ['a:begin', 'a:end', 'b:begin', 'b:end']);
  });

  it('behind a router, a redelivered event is handled once', async () => {
    const { unit, deposit, balance } = setup();
    const transport = memory();
    const router = createRouter({ transport, group: 'ledger', source: '/test/ledger' });
    let calls = 0;
    router.on(
      Deposited,
      unitOfWorkHandler(unit, async (event, tx) => {
        calls++;
        deposit(tx, event.data.account, event.data.cents);
        return Promise.resolve();
      }),
    );
    await router.start();
    try {
      const event = await deposited(3);
      const marker = await deposited(1000);
      // Same key, so the marker is handled after both copies of the event.
      await transport.publish([encodeEvent('accounts', event), encodeEvent('accounts', event)]);
      await transport.publish([encodeEvent('accounts', marker)]);
      await waitFor(() => balance('acc-1') === 1003, 10_000, 'the marker event');
      assert.equal(calls, 2, 'the event once, the marker once');
    } finally {
      await router.close();
      await transport.close();
    }
  });

  it('two processes delivering one event concurrently on one file: it is handled once', async () => {
    const path = newFile();
    setup(path); // creates the tables
    const event = await deposited(1);
    const script = fileURLToPath(new URL('./fixtures/unit-of-work-child.ts', import.meta.url));
    const children = [0, 1].map(() => {
      const child = spawn(
        process.execPath,
        ['--conditions=@herald/source', '--import', 'tsx', script, path, JSON.stringify(event)],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      cleanups.push(() => child.kill('SIGKILL'));
      let out = '';
      const seen = (text: string) =>
        new Promise<string>((resolve, reject) => {
          const check = () => {
            const line = out.split('\n').find((l) => l.startsWith(text));
            if (line !== undefined) resolve(line);
          };
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            check();
          });
          child.once('exit', () => {
            check();
            reject(new Error(`child exited before printing ${text}: ${out}`));
          });
          check();
        });
      return { child, ready: seen('READY'), result: seen('RESULT') };
    });
    await Promise.all(children.map((c) => c.ready));
    for (const { child } of children) child.stdin.write('go\n');
    const results = await Promise.all(children.map((c) => c.result));
    assert.deepEqual(results.sort(), ['RESULT false', 'RESULT true']);
    const check = new Database(path, { readonly: true });
    try {
      assert.equal((check.prepare('SELECT count(*) AS n FROM runs').get() as { n: number }).n, 1);
    } finally {
      check.close();
    }
  });

  it('refuses an inbox and an outbox on different connections', () => {
    const a = setup();
    const b = setup();
    assert.throws(() => sqliteUnitOfWork({ inbox: a.inbox, outbox: b.outbox }), { code: ErrorCodes.CONFIG });
  });

  it('emit without a source rejects with HERALD_CONFIG and rolls back', async () => {
    const { db, inbox, deposit, balance } = setup();
    const unit = sqliteUnitOfWork({ inbox, outbox: sqliteOutbox({ db, table: 'sourceless_outbox' }) });
    await assert.rejects(
      unit.run(async (tx, { emit }) => {
        deposit(tx, 'acc-3', 1);
        await emit(BalanceChanged, { account: 'acc-3', balance: 1 });
      }),
      { code: ErrorCodes.CONFIG },
    );
    assert.equal(balance('acc-3'), undefined);
  });
});
