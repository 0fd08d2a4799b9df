import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { partitionFor, type TransportRecord } from '@herald/core';
import { sqlite, type SqliteLogStoreOptions } from '../src/index.ts';
import { record } from './fixtures/records.ts';
import { logStores } from './fixtures/log-stores.ts';
import { tempDb } from './fixtures/temp-db.ts';

const { open, onCleanup } = logStores();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ids = (records: readonly { attributes: Readonly<Record<string, string>> }[]) =>
  records.map((r) => r.attributes.id);

describe('sqlite log store: the log', () => {
  it('puts a key in its partition, with dense offsets from 0, and round-robins keyless records', async () => {
    const store = open();
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const receipts = await store.append(keys.map((k, i) => record('orders', k, `e${i}`)));
    for (const [i, receipt] of receipts.entries()) {
      assert.equal(receipt.partition, partitionFor(keys[i]!, 4));
      assert.equal(receipt.topic, 'orders');
    }
    const perPartition = new Map<number, string[]>();
    for (const r of receipts)
      perPartition.set(r.partition, [...(perPartition.get(r.partition) ?? []), r.offset]);
    for (const offsets of perPartition.values()) {
      assert.deepEqual(
        offsets,
        offsets.map((_, i) => String(i)),
      );
    }
    const keyless = await store.append([1, 2, 3, 4].map((i) => record('logs', undefined, `l${i}`)));
    assert.deepEqual(keyless.map((r) => r.partition).sort(), [0, 1, 2, 3]);
  });

  it('reads a partition from an offset, in order, up to a limit, with everything that was appended', async () => {
    const store = open({ partitions: 1 });
    const data = { text: 'héllo ✓' };
    await store.append([record('t', 'k', 'e0', data), record('t', undefined, 'e1'), record('t', 'k', 'e2')]);
    const all = await store.read('t', 0, 0n, 10);
    assert.deepEqual(ids(all), ['e0', 'e1', 'e2']);
    assert.deepEqual(
      all.map((r) => r.offset),
      [0n, 1n, 2n],
    );
    assert.equal(all[0]!.key, 'k');
    assert.equal(all[1]!.key, undefined);
    assert.equal(all[0]!.partition, 0);
    assert.equal(all[0]!.topic, 't');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(all[0]!.data)), data);
    assert.equal(all[0]!.attributes.type, 'Tested');
    assert.ok(Math.abs(all[0]!.timestamp - Date.now()) < 5000);
    assert.deepEqual(ids(await store.read('t', 0, 1n, 1)), ['e1']);
    assert.deepEqual(await store.read('t', 0, 3n, 10), []);
    assert.deepEqual(await store.read('unknown', 0, 0n, 10), []);
    assert.equal(await store.endOffset('t', 0), 3n);
    assert.equal(await store.endOffset('unknown', 0), 0n);
  });

  it('keeps the partition count a topic was created with', async () => {
    const first = open({ partitions: 3 });
    await first.append([record('fixed', 'k', 'e0')]);
    const second = open({ partitions: 8 }, first.path);
    const receipts = await second.append(
      Array.from({ length: 40 }, (_, i) => record('fixed', `key-${i}`, `e${i}`)),
    );
    assert.ok(receipts.every((r) => r.partition < 3));
    const fresh = await second.append([record('fresh', 'x', 'f')]);
    assert.equal(fresh[0]!.partition, partitionFor('x', 8));
  });

  it('refuses a batch with an invalid record, and only the call that made it', async () => {
    const store = open({ partitions: 1 });
    const bad = { ...record('t', 'k', 'bad'), data: 'not bytes' } as unknown as TransportRecord;
    await assert.rejects(store.append([record('t', 'k', 'ok0'), bad]), { code: 'HERALD_TRANSPORT' });
    assert.equal(await store.endOffset('t', 0), 0n);
    const results = await Promise.allSettled([
      store.append([record('t', 'k', 'ok1')]),
      store.append([bad]),
      store.append([record('t', 'k', 'ok2')]),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(ids(await store.read('t', 0, 0n, 10)), ['ok1', 'ok2']);
  });

  it('commits the appends of one turn together, in call order', async () => {
    const store = open({ partitions: 1 });
    const receipts = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.append([record('t', 'k', `e${i}`)])),
    );
    assert.deepEqual(
      receipts.map((r) => r[0]!.offset),
      Array.from({ length: 50 }, (_, i) => String(i)),
    );
  });

  it('finds offsets by time', async () => {
    const store = open({ partitions: 1 });
    await store.append([record('t', 'k', 'e0'), record('t', 'k', 'e1')]);
    await sleep(15);
    const between = new Date();
    await sleep(15);
    await store.append([record('t', 'k', 'e2')]);
    assert.equal(await store.offsetForTime('t', 0, new Date(0)), 0n);
    assert.equal(await store.offsetForTime('t', 0, between), 2n);
    assert.equal(await store.offsetForTime('t', 0, new Date(Date.now() + 60_000)), 3n);
    assert.equal(await store.offsetForTime('unknown', 0, between), 0n);
  });

  it('wakes watchers after an append, and stops when unwatched', async () => {
    const store = open();
    let calls = 0;
    const unwatch = store.watch(() => calls++);
    await store.append([record('t', 'k', 'e0')]);
    await sleep(20);
    assert.ok(calls >= 1);
    unwatch();
    const before = calls;
    await store.append([record('t', 'k', 'e1')]);
    await sleep(20);
    assert.equal(calls, before);
  });

  it('wakes a store of the same file after an append by another connection', async () => {
    const writer = open();
    const reader = open({}, writer.path);
    let woke = false;
    reader.watch(() => (woke = true));
    await writer.append([record('t', 'k', 'e0')]);
    const deadline = Date.now() + 2000;
    while (!woke && Date.now() < deadline) await sleep(2);
    assert.ok(woke);
  });

  it('refuses work after close, and closes once', async () => {
    const store = open();
    await store.close();
    await store.close();
    await assert.rejects(store.append([record('t', 'k', 'e0')]), { code: 'HERALD_CLOSED' });
    await assert.rejects(store.read('t', 0, 0n, 1), { code: 'HERALD_CLOSED' });
  });
});

describe('sqlite log store: retention', () => {
  it('keeps the newest records per partition, and offsets stay dense', async () => {
    const store = open({ partitions: 1, retention: { maxRecordsPerPartition: 3, intervalMs: 60_000 } });
    await store.append(Array.from({ length: 10 }, (_, i) => record('t', 'k', `e${i}`)));
    assert.equal(await store.sweepRetention(), 7);
    assert.deepEqual(ids(await store.read('t', 0, 0n, 100)), ['e7', 'e8', 'e9']);
    assert.equal(await store.endOffset('t', 0), 10n);
    const [receipt] = await store.append([record('t', 'k', 'e10')]);
    assert.equal(receipt!.offset, '10');
    assert.equal(await store.sweepRetention(), 1);
  });

  it('deletes records older than the maximum age, keeping the newest of each partition', async () => {
    const store = open({ partitions: 1, retention: { maxAgeMs: 40, intervalMs: 60_000 } });
    await store.append([record('t', 'a', 'old-0'), record('t', 'b', 'old-1'), record('t', 'c', 'old-2')]);
    await store.append([record('quiet', 'a', 'quiet-0'), record('quiet', 'a', 'quiet-1')]);
    await sleep(60);
    await store.append([record('t', 'a', 'new-3')]);
    assert.equal(await store.sweepRetention(), 4);
    assert.deepEqual(ids(await store.read('t', 0, 0n, 10)), ['new-3']);
    assert.deepEqual(ids(await store.read('quiet', 0, 0n, 10)), ['quiet-1'], 'it holds the next offset');
    const [receipt] = await store.append([record('quiet', 'a', 'quiet-2')]);
    assert.equal(receipt!.offset, '2');
  });

  it('sweeps in the background', async () => {
    const store = open({ partitions: 1, retention: { maxRecordsPerPartition: 1, intervalMs: 20 } });
    await store.append([record('t', 'k', 'e0'), record('t', 'k', 'e1')]);
    const deadline = Date.now() + 3000;
    while ((await store.read('t', 0, 0n, 10)).length > 1 && Date.now() < deadline) await sleep(10);
    assert.deepEqual(ids(await store.read('t', 0, 0n, 10)), ['e1']);
  });
});

describe('sqlite transport: options', () => {
  const path = tempDb().path;
  const invalid: [string, Record<string, unknown>][] = [
    ['path', { path: '' }],
    ['path', { path: ':memory:' }],
    ['partitions', { path, partitions: 0 }],
    ['partitions', { path, partitions: 1.5 }],
    ['durability', { path, durability: 'D3' }],
    ['sessionTimeoutMs', { path, sessionTimeoutMs: 5 }],
    ['retention', { path, retention: {} }],
    ['retention.maxAgeMs', { path, retention: { maxAgeMs: -1 } }],
  ];
  for (const [option, options] of invalid) {
    it(`rejects an invalid ${option} at start-up (${JSON.stringify(options[option] ?? options.retention)})`, () => {
      assert.throws(
        () => sqlite(options as unknown as SqliteLogStoreOptions),
        (error: { code?: string; details?: { option?: string } }) =>
          error.code === 'HERALD_CONFIG' && error.details?.option === option,
      );
    });
  }

  it('builds a persistent, cross-process transport with every capability', async () => {
    const db = tempDb();
    onCleanup(db.remove);
    const transport = sqlite({ path: db.path, durability: 'D2' });
    onCleanup(() => transport.close());
    assert.equal(transport.name, 'sqlite');
    assert.equal(transport.capabilities.persistent, true);
    assert.equal(transport.capabilities.crossProcess, true);
    assert.ok(transport.deadLetters);
    assert.equal(typeof transport.seek, 'function');
    const [receipt] = await transport.publish([record('t', 'k', 'e0')]);
    assert.equal(receipt!.offset, '0');
  });
});
