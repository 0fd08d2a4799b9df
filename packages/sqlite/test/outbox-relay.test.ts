import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { decodeRecord, HeraldError, type Transport, type TransportRecord } from '@herald/core';
import { sqliteOutbox, type SqliteOutbox } from '../src/outbox.ts';
import { outboxRelay, type OutboxRelay } from '../src/relay.ts';
import { numberedEvent } from './fixtures/numbered-events.ts';

const Counted = numberedEvent('Counted', 'counts');

/** A transport that records what it is given; `failNext` makes the next publishes reject. */
function recordingTransport() {
  const published: TransportRecord[] = [];
  let failures = 0;
  let gate: Promise<void> | undefined;
  const transport: Transport & {
    published: TransportRecord[];
    failNext(n: number): void;
    hold(until: Promise<void>): void;
    calls: number;
  } = {
    name: 'recording',
    capabilities: {
      persistent: false,
      crossProcess: false,
      orderedPerKey: true,
      delayedDelivery: false,
      deadLetterQueue: false,
      replay: false,
      orderedRedelivery: false,
      longHandlers: false,
      scheduledDelivery: false,
    },
    published,
    calls: 0,
    failNext(n) {
      failures = n;
    },
    hold(until) {
      gate = until;
    },
    async publish(records) {
      transport.calls++;
      if (gate !== undefined) await gate;
      if (failures > 0) {
        failures--;
        throw new HeraldError('HERALD_TRANSPORT', 'broker unreachable');
      }
      published.push(...records);
      return records.map((r, i) => ({
        topic: r.topic,
        partition: 0,
        offset: String(published.length - records.length + i),
      }));
    },
    subscribe() {
      throw new Error('not used');
    },
    async close() {},
  };
  return transport;
}

const nByKey = (records: readonly TransportRecord[]) => {
  const out = new Map<string, number[]>();
  for (const record of records) {
    const { key, n } = decodeRecord(record).data as { key: string; n: number };
    out.set(key, [...(out.get(key) ?? []), n]);
  }
  return out;
};

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const relays: OutboxRelay[] = [];
const dirs: string[] = [];
after(async () => {
  await Promise.all(relays.map((r) => r.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function setup(relayOptions: { batchSize?: number; pollIntervalMs?: number } = {}) {
  const db = new Database(':memory:');
  const outbox = sqliteOutbox({ db, source: '/test' });
  const transport = recordingTransport();
  const relay = outboxRelay({
    outbox,
    transport,
    backoff: { initialMs: 5, maxMs: 20 },
    onError: () => undefined,
    ...relayOptions,
  });
  relays.push(relay);
  return { db, outbox, transport, relay };
}

function emitMany(outbox: SqliteOutbox, keys: string[], perKey: number): void {
  outbox.db.transaction(() => {
    for (let n = 0; n < perKey; n++) for (const key of keys) outbox.emit(Counted, { key, n });
  })();
}

describe('outbox relay', () => {
  it('publishes in seq order, so each key keeps its order across batches, and deletes what it sent', async () => {
    const { outbox, transport, relay } = setup({ batchSize: 7 });
    emitMany(outbox, ['a', 'b', 'c'], 50);
    relay.start();
    await relay.flush();
    assert.equal(transport.published.length, 150);
    const expected = Array.from({ length: 50 }, (_, n) => n);
    for (const key of ['a', 'b', 'c']) assert.deepEqual(nByKey(transport.published).get(key), expected);
    assert.equal(outbox.pending(), 0);
    assert.ok(transport.calls >= 150 / 7);
  });

  it('wakes at once after a local commit, long before its next poll', async () => {
    const { outbox, transport, relay } = setup({ pollIntervalMs: 60_000 });
    relay.start();
    await new Promise((resolve) => setTimeout(resolve, 20)); // idle, waiting on the poll timer
    const started = Date.now();
    outbox.emit(Counted, { key: 'a', n: 1 });
    await until(() => transport.published.length === 1, 1000);
    assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`);
  });

  it('does not publish a transaction that rolled back', async () => {
    const { db, outbox, transport, relay } = setup({ pollIntervalMs: 10 });
    relay.start();
    assert.throws(
      db.transaction(() => {
        outbox.emit(Counted, { key: 'a', n: 1 });
        throw new Error('rollback');
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(transport.published.length, 0);
  });

  it('survives a failing transport: retries with backoff, loses nothing, keeps order', async () => {
    const { outbox, transport, relay } = setup({ batchSize: 10 });
    transport.failNext(4);
    emitMany(outbox, ['a', 'b'], 20);
    relay.start();
    await relay.flush();
    assert.equal(relay.stats.failures, 4);
    assert.equal(relay.stats.consecutiveFailures, 0);
    assert.equal(relay.stats.lastError?.code, 'HERALD_TRANSPORT');
    assert.equal(transport.published.length, 40);
    const expected = Array.from({ length: 20 }, (_, n) => n);
    assert.deepEqual(nByKey(transport.published).get('a'), expected);
    assert.deepEqual(nByKey(transport.published).get('b'), expected);
  });

  it('keeps going after a database error (busy, I/O), with backoff', async () => {
    const db = new Database(':memory:');
    const real = sqliteOutbox({ db, source: '/test' });
    let failPeeks = 2;
    const outbox: SqliteOutbox = {
      ...real,
      peek(limit) {
        if (failPeeks-- > 0) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
        return real.peek(limit);
      },
    };
    const transport = recordingTransport();
    const errors: unknown[] = [];
    const relay = outboxRelay({
      outbox,
      transport,
      backoff: { initialMs: 1, maxMs: 5 },
      onError: (e) => errors.push(e),
    });
    relays.push(relay);
    outbox.emit(Counted, { key: 'a', n: 1 });
    relay.start();
    await relay.flush();
    assert.equal(transport.published.length, 1);
    assert.equal(errors.length, 2);
    assert.equal(relay.stats.lastError?.code, 'SQLITE_BUSY');
  });

  it('finds rows written by another connection by polling', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-relay-'));
    dirs.push(dir);
    const file = join(dir, 'service.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    const outbox = sqliteOutbox({ db, source: '/test' });
    const transport = recordingTransport();
    const relay = outboxRelay({ outbox, transport, pollIntervalMs: 10 });
    relays.push(relay);
    relay.start();
    const other = new Database(file);
    sqliteOutbox({ db: other, source: '/other' }).emit(Counted, { key: 'x', n: 1 });
    other.close();
    await until(() => transport.published.length === 1);
    await relay.close();
    db.close();
  });

  it('lets one relay per outbox publish when two processes open the same file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-relay-'));
    dirs.push(dir);
    const file = join(dir, 'service.db');
    const transport = recordingTransport();
    const pairs = [0, 1].map(() => {
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      const outbox = sqliteOutbox({ db, source: '/test' });
      const relay = outboxRelay({ outbox, transport, pollIntervalMs: 5, batchSize: 3 });
      relays.push(relay);
      return { db, outbox, relay };
    });
    for (const { relay } of pairs) relay.start();
    for (let n = 0; n < 60; n++) pairs[n % 2]!.outbox.emit(Counted, { key: 'k', n });
    await until(() => pairs[0]!.outbox.pending() === 0 && transport.published.length >= 60);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(
      nByKey(transport.published).get('k'),
      Array.from({ length: 60 }, (_, n) => n),
      'each row published once, in order',
    );
    for (const { relay, db } of pairs) {
      await relay.close();
      db.close();
    }
  });

  it('closes cleanly: waits for the batch in flight, then publishes nothing more', async () => {
    const { outbox, transport, relay } = setup();
    let release!: () => void;
    transport.hold(new Promise<void>((resolve) => (release = resolve)));
    outbox.emit(Counted, { key: 'a', n: 1 });
    relay.start();
    await until(() => transport.calls === 1);
    let closed = false;
    const closing = relay.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(closed, false, 'close waits for the publish in flight');
    release();
    await closing;
    assert.equal(outbox.pending(), 0, 'the acknowledged batch was deleted');
    outbox.emit(Counted, { key: 'a', n: 2 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(transport.published.length, 1);
    assert.equal(outbox.pending(), 1, 'left for the next start');
  });
});
