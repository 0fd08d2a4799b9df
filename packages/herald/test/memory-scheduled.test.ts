import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DELIVER_AT_ATTRIBUTE,
  logTransport,
  MemoryLogStore,
  partitionFor,
  type TransportRecord,
} from '@herald/core';
import { waitFor } from '@herald/core/testing';

// Issue 12 item 3 on the embedded log's in-memory store: held records, their receipts, and the release the log
// transport runs. The contract suite's scheduled-delivery case covers delivery through a subscription.

const encoder = new TextEncoder();
function dueRecord(id: string, key: string | undefined, dueAt: number | undefined): TransportRecord {
  return {
    topic: 't',
    key,
    attributes: {
      id,
      ...(dueAt === undefined ? {} : { [DELIVER_AT_ATTRIBUTE]: new Date(dueAt).toISOString() }),
    },
    data: encoder.encode('{}'),
  };
}

describe('memory log store: scheduled records', () => {
  it('holds records due later, and releases them earliest due first, at most the limit', async () => {
    const store = new MemoryLogStore({ partitions: 1 });
    const t = Date.now() + 60_000;
    const receipts = await store.append([
      dueRecord('late', 'k', t + 20),
      dueRecord('now', 'k', undefined),
      dueRecord('early', 'k', t + 10),
      dueRecord('keyless', undefined, t + 30),
    ]);
    assert.deepEqual(receipts[0], {
      topic: 't',
      partition: partitionFor('k', 1),
      offset: '-1',
      deliverAt: new Date(t + 20).toISOString(),
    });
    assert.equal(receipts[1]!.offset, '0', 'the unscheduled record is appended at once');
    assert.equal(receipts[3]!.partition, -1);
    assert.deepEqual(await store.releaseDue(t + 9, 10), { released: 0, nextDue: t + 10 });
    assert.deepEqual(await store.releaseDue(t + 100, 2), { released: 2, nextDue: t + 30 });
    assert.deepEqual(await store.releaseDue(t + 100, 2), { released: 1, nextDue: undefined });
    const ids = (await store.read('t', 0, 0n, 10)).map((r) => r.attributes.id);
    assert.deepEqual(ids, ['now', 'early', 'late', 'keyless']);
    await store.close();
  });

  it('the transport releases a held record at its due time with no subscriber in the process', async () => {
    const store = new MemoryLogStore({ partitions: 1 });
    const transport = logTransport(store, { pollIntervalMs: 50 });
    const due = Date.now() + 300;
    const [receipt] = await transport.publish([dueRecord('held', 'k', due)]);
    assert.equal(receipt!.deliverAt, new Date(due).toISOString());
    assert.equal((await store.read('t', 0, 0n, 10)).length, 0);
    await waitFor(async () => (await store.read('t', 0, 0n, 10)).length === 1, 5000, 'the release');
    assert.ok(Date.now() >= due, 'not before it was due');
    await transport.close();
  });
});
